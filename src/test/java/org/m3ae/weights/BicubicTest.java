package org.m3ae.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link Bicubic} against hand-computed values and an independent reference written here. */
class BicubicTest {

  /** Keys' cubic convolution kernel W(d), a = −0.75, written from its piecewise definition. */
  static double kernel(double d) {
    double a = -0.75;
    double x = Math.abs(d);
    if (x <= 1) return (a + 2) * x * x * x - (a + 3) * x * x + 1;
    if (x < 2) return a * x * x * x - 5 * a * x * x + 8 * a * x - 4 * a;
    return 0;
  }

  /**
   * PyTorch {@code F.interpolate(mode='bicubic', align_corners=False)} for one channel, as a direct
   * 2-D weighted sum: each output pixel looks at the 4×4 source pixels around its source point,
   * weighted by the kernel of the distance, with out-of-range pixels replaced by the border.
   */
  static double reference(double[][] in, int outH, int outW, int oy, int ox) {
    int h = in.length;
    int w = in[0].length;
    double sy = (oy + 0.5) * h / outH - 0.5;
    double sx = (ox + 0.5) * w / outW - 0.5;
    double sum = 0;
    for (int ky = (int) Math.floor(sy) - 1; ky <= (int) Math.floor(sy) + 2; ky++) {
      for (int kx = (int) Math.floor(sx) - 1; kx <= (int) Math.floor(sx) + 2; kx++) {
        double v = in[Math.max(0, Math.min(h - 1, ky))][Math.max(0, Math.min(w - 1, kx))];
        sum += kernel(sy - ky) * kernel(sx - kx) * v;
      }
    }
    return sum;
  }

  @Test
  void handComputedUpsampleOfAStep() {
    // [0, 1] → 4 samples: real source coords −0.25, 0.25, 0.75, 1.25. At −0.25 only the last tap
    // (index 1, distance 1.25) sees the 1: W(1.25) = 0.140625·a = −0.10546875. At 0.25 the taps at
    // distances 0.75 and 1.75 see it: 0.26171875 − 0.03515625 = 0.2265625. Symmetry gives the rest.
    float[] out = Bicubic.resize(new float[] {0, 1, 0, 1}, 2, 2, 1, 1, 4);
    assertArrayEquals(new float[] {-0.10546875f, 0.2265625f, 0.7734375f, 1.10546875f}, out, 1e-7f);
  }

  @Test
  void sameSizeIsIdentityAndConstantsStayConstant() {
    Random r = new Random(1);
    float[] g = new float[5 * 5 * 3];
    for (int i = 0; i < g.length; i++) g[i] = r.nextFloat();
    assertArrayEquals(g, Bicubic.resize(g, 5, 5, 3, 5, 5), 0f);
    float[] c = new float[4 * 4];
    java.util.Arrays.fill(c, 2.5f);
    for (float v : Bicubic.resize(c, 4, 4, 1, 7, 7)) assertEquals(2.5f, v, 1e-6f);
  }

  @Test
  void matchesIndependentReferenceUpAndDown() {
    Random r = new Random(7);
    int[][] cases = {{14, 18}, {18, 24}, {24, 18}, {3, 5}, {7, 2}};
    for (int[] cs : cases) {
      int in = cs[0];
      int out = cs[1];
      int ch = 3;
      float[] g = new float[in * in * ch];
      for (int i = 0; i < g.length; i++) g[i] = (float) r.nextGaussian();
      float[] got = Bicubic.resize(g, in, in, ch, out, out);
      for (int c = 0; c < ch; c++) {
        double[][] plane = new double[in][in];
        for (int y = 0; y < in; y++) for (int x = 0; x < in; x++) plane[y][x] = g[(y * in + x) * ch + c];
        for (int y = 0; y < out; y++) {
          for (int x = 0; x < out; x++) {
            assertEquals(reference(plane, out, out, y, x), got[(y * out + x) * ch + c], 1e-5,
                in + "->" + out + " at " + y + "," + x);
          }
        }
      }
    }
  }

  @Test
  void positionEmbeddingKeepsClsRow() {
    int d = 4;
    float[] pos = new float[(1 + 9) * d];
    for (int i = 0; i < pos.length; i++) pos[i] = i * 0.1f;
    float[] out = Bicubic.resizePositionEmbedding(pos, 10, d, 17);
    assertEquals(17 * d, out.length);
    for (int i = 0; i < d; i++) assertEquals(pos[i], out[i]);
  }
}
