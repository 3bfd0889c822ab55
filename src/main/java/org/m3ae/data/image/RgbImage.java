package org.m3ae.data.image;

/** An 8-bit RGB image, row-major, channels interleaved ({@code rgb[(y*width + x)*3 + c]}). */
public record RgbImage(int width, int height, byte[] rgb) {

  public RgbImage {
    if (width <= 0 || height <= 0) throw new IllegalArgumentException("empty image " + width + "x" + height);
    if (rgb.length != width * height * 3) throw new IllegalArgumentException("rgb length " + rgb.length + " != " + width + "*" + height + "*3");
  }

  public int get(int x, int y, int c) {
    return rgb[(y * width + x) * 3 + c] & 0xff;
  }

  public RgbImage crop(int left, int top, int w, int h) {
    if (left < 0 || top < 0 || left + w > width || top + h > height)
      throw new IllegalArgumentException("crop " + left + "," + top + " " + w + "x" + h + " outside " + width + "x" + height);
    byte[] out = new byte[w * h * 3];
    for (int y = 0; y < h; y++) System.arraycopy(rgb, ((top + y) * width + left) * 3, out, y * w * 3, w * 3);
    return new RgbImage(w, h, out);
  }
}
