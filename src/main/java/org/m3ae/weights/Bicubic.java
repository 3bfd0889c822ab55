package org.m3ae.weights;

/**
 * Bicubic resampling with the semantics of PyTorch's {@code F.interpolate(mode='bicubic',
 * align_corners=False)}: Keys kernel with a = −0.75, source coordinate {@code (dst + 0.5) · in/out
 * − 0.5} without clamping, neighbour indices clamped to the border. M3AE resizes CLIP's
 * positional-embedding grid this way (SPEC §1.1, §11.6), so the same arithmetic is needed to
 * reproduce its embeddings at another resolution.
 */
public final class Bicubic {
  private static final double A = -0.75;

  private Bicubic() {}

  /**
   * Resizes a channels-last grid {@code [inH][inW][c]} (row-major, flattened) to {@code
   * [outH][outW][c]}; every channel is interpolated independently.
   */
  public static float[] resize(float[] in, int inH, int inW, int c, int outH, int outW) {
    if (in.length != (long) inH * inW * c) {
      throw new IllegalArgumentException("grid has " + in.length + " values, not " + inH + "x" + inW + "x" + c);
    }
    int[][] yIdx = new int[outH][4];
    double[][] yW = new double[outH][4];
    taps(inH, outH, yIdx, yW);
    int[][] xIdx = new int[outW][4];
    double[][] xW = new double[outW][4];
    taps(inW, outW, xIdx, xW);
    float[] out = new float[outH * outW * c];
    double[] acc = new double[c];
    for (int oy = 0; oy < outH; oy++) {
      for (int ox = 0; ox < outW; ox++) {
        java.util.Arrays.fill(acc, 0);
        for (int i = 0; i < 4; i++) {
          for (int j = 0; j < 4; j++) {
            double w = yW[oy][i] * xW[ox][j];
            int base = (yIdx[oy][i] * inW + xIdx[ox][j]) * c;
            for (int ch = 0; ch < c; ch++) acc[ch] += w * in[base + ch];
          }
        }
        int o = (oy * outW + ox) * c;
        for (int ch = 0; ch < c; ch++) out[o + ch] = (float) acc[ch];
      }
    }
    return out;
  }

  /** The four source indices and weights of each output position along one axis. */
  private static void taps(int in, int out, int[][] idx, double[][] w) {
    double scale = (double) in / out;
    for (int o = 0; o < out; o++) {
      double real = scale * (o + 0.5) - 0.5;
      int i0 = (int) Math.floor(real);
      double t = real - i0;
      w[o][0] = far(t + 1);
      w[o][1] = near(t);
      w[o][2] = near(1 - t);
      w[o][3] = far(2 - t);
      for (int k = 0; k < 4; k++) idx[o][k] = Math.min(Math.max(i0 - 1 + k, 0), in - 1);
    }
  }

  /** Kernel for |x| ≤ 1. */
  private static double near(double x) {
    return ((A + 2) * x - (A + 3)) * x * x + 1;
  }

  /** Kernel for 1 < |x| < 2. */
  private static double far(double x) {
    return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
  }

  /**
   * Resizes a ViT positional embedding {@code [1 + g·g, d]} to {@code [1 + g2·g2, d]}: the CLS row
   * is kept and the patch rows, a row-major {@code g × g} grid, are interpolated (M3AE's {@code
   * adapt_position_encoding}).
   */
  public static float[] resizePositionEmbedding(float[] pos, int rows, int d, int newRows) {
    int g = gridSide(rows - 1);
    int g2 = gridSide(newRows - 1);
    if (g < 0 || g2 < 0) {
      throw new IllegalArgumentException("positional embedding rows " + rows + " -> " + newRows
          + " are not 1 + a square grid");
    }
    float[] patches = java.util.Arrays.copyOfRange(pos, d, pos.length);
    float[] resized = resize(patches, g, g, d, g2, g2);
    float[] out = new float[newRows * d];
    System.arraycopy(pos, 0, out, 0, d);
    System.arraycopy(resized, 0, out, d, resized.length);
    return out;
  }

  private static int gridSide(int n) {
    int s = (int) Math.round(Math.sqrt(n));
    return s * s == n ? s : -1;
  }
}
