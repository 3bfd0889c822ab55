package org.m3ae.data.image;

/**
 * Pillow's {@code Image.resize(size, BICUBIC)} for 8-bit images, bit for bit: torchvision's
 * {@code Resize} on PIL images calls it (SPEC §3.4). Antialiased separable convolution with the
 * a = -0.5 cubic kernel widened by the downscale factor, 22-bit fixed-point coefficients, a
 * horizontal pass clipped to 8 bits, then a vertical pass (Pillow {@code libImaging/Resample.c}).
 * OpenCV's INTER_CUBIC (a = -0.75, no antialiasing) would not match.
 */
public final class PilBicubic {

  private static final int PRECISION_BITS = 32 - 8 - 2;
  private static final double SUPPORT = 2.0;

  private PilBicubic() {}

  static double filter(double x) {
    final double a = -0.5;
    if (x < 0) x = -x;
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
  }

  /** Per output pixel: first source index, tap count and fixed-point weights ({@code ksize} wide). */
  record Coeffs(int ksize, int[] bounds, int[] kk) {}

  static Coeffs coeffs(int inSize, int outSize) {
    double scale = (double) inSize / outSize;
    double filterscale = Math.max(scale, 1.0);
    double support = SUPPORT * filterscale;
    int ksize = (int) Math.ceil(support) * 2 + 1;
    int[] bounds = new int[outSize * 2];
    int[] kk = new int[outSize * ksize];
    double[] k = new double[ksize];
    for (int xx = 0; xx < outSize; xx++) {
      double center = (xx + 0.5) * scale;
      double ss = 1.0 / filterscale;
      int xmin = (int) (center - support + 0.5);
      if (xmin < 0) xmin = 0;
      int xmax = (int) (center + support + 0.5);
      if (xmax > inSize) xmax = inSize;
      xmax -= xmin;
      double ww = 0.0;
      for (int x = 0; x < xmax; x++) {
        double w = filter((x + xmin - center + 0.5) * ss);
        k[x] = w;
        ww += w;
      }
      for (int x = 0; x < ksize; x++) {
        double w = x < xmax ? (ww != 0.0 ? k[x] / ww : k[x]) : 0.0;
        // Pillow rounds half away from zero when converting to fixed point.
        kk[xx * ksize + x] = (int) (w < 0 ? -0.5 + w * (1 << PRECISION_BITS) : 0.5 + w * (1 << PRECISION_BITS));
      }
      bounds[xx * 2] = xmin;
      bounds[xx * 2 + 1] = xmax;
    }
    return new Coeffs(ksize, bounds, kk);
  }

  private static int clip8(int in) {
    if (in >= (1 << PRECISION_BITS) << 8) return 255;
    if (in <= 0) return 0;
    return in >> PRECISION_BITS;
  }

  public static RgbImage resize(RgbImage img, int outW, int outH) {
    if (outW <= 0 || outH <= 0) throw new IllegalArgumentException("resize to " + outW + "x" + outH);
    RgbImage cur = img;
    if (outW != cur.width()) cur = horizontal(cur, outW);
    if (outH != cur.height()) cur = vertical(cur, outH);
    return cur;
  }

  private static RgbImage horizontal(RgbImage in, int outW) {
    Coeffs c = coeffs(in.width(), outW);
    int h = in.height();
    int inW = in.width();
    byte[] src = in.rgb();
    byte[] out = new byte[outW * h * 3];
    int half = 1 << (PRECISION_BITS - 1);
    for (int y = 0; y < h; y++) {
      int row = y * inW * 3;
      for (int xx = 0; xx < outW; xx++) {
        int xmin = c.bounds[xx * 2], xmax = c.bounds[xx * 2 + 1], kb = xx * c.ksize;
        int s0 = half, s1 = half, s2 = half;
        for (int x = 0; x < xmax; x++) {
          int k = c.kk[kb + x];
          int p = row + (x + xmin) * 3;
          s0 += (src[p] & 0xff) * k;
          s1 += (src[p + 1] & 0xff) * k;
          s2 += (src[p + 2] & 0xff) * k;
        }
        int o = (y * outW + xx) * 3;
        out[o] = (byte) clip8(s0);
        out[o + 1] = (byte) clip8(s1);
        out[o + 2] = (byte) clip8(s2);
      }
    }
    return new RgbImage(outW, h, out);
  }

  private static RgbImage vertical(RgbImage in, int outH) {
    Coeffs c = coeffs(in.height(), outH);
    int w = in.width();
    byte[] src = in.rgb();
    byte[] out = new byte[w * outH * 3];
    int half = 1 << (PRECISION_BITS - 1);
    int stride = w * 3;
    for (int yy = 0; yy < outH; yy++) {
      int ymin = c.bounds[yy * 2], ymax = c.bounds[yy * 2 + 1], kb = yy * c.ksize;
      for (int xc = 0; xc < stride; xc++) {
        int s = half;
        for (int y = 0; y < ymax; y++) s += (src[(y + ymin) * stride + xc] & 0xff) * c.kk[kb + y];
        out[yy * stride + xc] = (byte) clip8(s);
      }
    }
    return new RgbImage(w, outH, out);
  }
}
