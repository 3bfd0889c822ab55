package org.m3ae.data;

import static org.junit.jupiter.api.Assertions.*;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.Random;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.m3ae.data.image.ClipTransform;
import org.m3ae.data.image.ImageDecodeException;
import org.m3ae.data.image.ImageDecoder;
import org.m3ae.data.image.PilBicubic;
import org.m3ae.data.image.RgbImage;

/** SPEC §3.4 preprocessing against references written here, independently of the production code. */
class ClipTransformTest {

  /** Keys' cubic with a = -0.5, as PIL defines BICUBIC. */
  static double cubic(double x) {
    x = Math.abs(x);
    if (x < 1) return 1.5 * x * x * x - 2.5 * x * x + 1;
    if (x < 2) return -0.5 * x * x * x + 2.5 * x * x - 4 * x + 2;
    return 0;
  }

  /** Antialiased separable bicubic in double precision, one axis, straight from the definition. */
  static double[] resample1d(double[] in, int out) {
    double scale = (double) in.length / out, fs = Math.max(1, scale), support = 2 * fs;
    double[] r = new double[out];
    for (int o = 0; o < out; o++) {
      double center = (o + 0.5) * scale, sum = 0, wsum = 0;
      for (int i = 0; i < in.length; i++) {
        double d = (i + 0.5 - center) / fs;
        if (Math.abs(i + 0.5 - center) >= support + 0.5) continue;
        double w = cubic(d);
        sum += w * in[i];
        wsum += w;
      }
      r[o] = sum / wsum;
    }
    return r;
  }

  static int[][] referenceResize(int[][] img, int outW, int outH) {
    int h = img.length, w = img[0].length;
    double[][] tmp = new double[h][];
    for (int y = 0; y < h; y++) {
      double[] row = new double[w];
      for (int x = 0; x < w; x++) row[x] = img[y][x];
      tmp[y] = outW == w ? row : resample1d(row, outW);
      // PIL stores the horizontal pass as 8-bit.
      for (int x = 0; x < tmp[y].length; x++) tmp[y][x] = Math.max(0, Math.min(255, Math.round(tmp[y][x])));
    }
    int[][] out = new int[outH][outW];
    for (int x = 0; x < outW; x++) {
      double[] col = new double[h];
      for (int y = 0; y < h; y++) col[y] = tmp[y][x];
      double[] c = outH == h ? col : resample1d(col, outH);
      for (int y = 0; y < outH; y++) out[y][x] = (int) Math.max(0, Math.min(255, Math.round(c[y])));
    }
    return out;
  }

  static RgbImage gray(int[][] g) {
    int h = g.length, w = g[0].length;
    byte[] b = new byte[w * h * 3];
    for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) for (int c = 0; c < 3; c++) b[(y * w + x) * 3 + c] = (byte) g[y][x];
    return new RgbImage(w, h, b);
  }

  @Test
  void handComputedDownscaleStep() {
    // [0,0,255,255] -> 2 px: support 4, taps at -0.25,0.25,0.75,1.25 (scaled); weights 0.8671875,
    // 0.8671875, 0.2265625, -0.0703125 over their sum 1.890625 -> 255*0.15625/1.890625 = 21.07.
    RgbImage r = PilBicubic.resize(gray(new int[][] {{0, 0, 255, 255}}), 2, 1);
    assertEquals(21, r.get(0, 0, 0));
    assertEquals(234, r.get(1, 0, 0));
  }

  @Test
  void matchesDoubleReferenceOnRandomImages() {
    Random rnd = new Random(5);
    int[][] sizes = {{37, 23, 16, 16}, {50, 71, 24, 34}, {20, 13, 41, 27}, {300, 200, 96, 64}, {9, 9, 9, 20}};
    for (int[] s : sizes) {
      int[][] g = new int[s[1]][s[0]];
      for (int[] row : g) for (int x = 0; x < row.length; x++) row[x] = rnd.nextInt(256);
      int[][] ref = referenceResize(g, s[2], s[3]);
      RgbImage got = PilBicubic.resize(gray(g), s[2], s[3]);
      int exact = 0, n = s[2] * s[3];
      for (int y = 0; y < s[3]; y++)
        for (int x = 0; x < s[2]; x++) {
          int d = Math.abs(got.get(x, y, 0) - ref[y][x]);
          assertTrue(d <= 1, "pixel " + x + "," + y + " differs by " + d + " for " + java.util.Arrays.toString(s));
          if (d == 0) exact++;
          assertEquals(got.get(x, y, 0), got.get(x, y, 2));
        }
      assertTrue(exact >= 0.95 * n, "only " + exact + "/" + n + " exact for " + java.util.Arrays.toString(s));
    }
  }

  @Test
  void constantImageStaysConstantAndNormalisesExactly() {
    int[][] g = new int[50][80];
    for (int[] row : g) java.util.Arrays.fill(row, 200);
    float[] out = new ClipTransform(32, ClipTransform.Kind.CLIP).apply(gray(g), new SplittableRandom(1));
    double[] mean = {0.48145466, 0.4578275, 0.40821073}, std = {0.26862954, 0.26130258, 0.27577711};
    for (int c = 0; c < 3; c++) {
      double expect = (200 / 255.0 - mean[c]) / std[c];
      for (int p = 0; p < 32 * 32; p++) assertEquals(expect, out[c * 1024 + p], 1e-6);
    }
  }

  @Test
  void shorterSideRuleAndRoundHalfToEvenCentreCrop() {
    // 153x101 at size 100: shorter side 101 -> 100, longer int(100*153/101)=151; left
    // round((151-100)/2)=round(25.5)=26 (Python rounds half to even), top 0.
    int w = 153, h = 101;
    int[][] g = new int[h][w];
    for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) g[y][x] = (x * 7 + y * 3) % 256;
    RgbImage got = ClipTransform.resizeAndCenterCrop(gray(g), 100);
    int[][] ref = referenceResize(g, 151, 100);
    assertEquals(100, got.width());
    assertEquals(100, got.height());
    int maxDiff = 0;
    for (int y = 0; y < 100; y++) for (int x = 0; x < 100; x++) maxDiff = Math.max(maxDiff, Math.abs(got.get(x, y, 0) - ref[y][x + 26]));
    assertTrue(maxDiff <= 1, "crop offset or resize wrong, max diff " + maxDiff);
    // Already at size: torchvision returns the image untouched, only the crop applies.
    int[][] g2 = new int[100][131];
    for (int y = 0; y < 100; y++) for (int x = 0; x < 131; x++) g2[y][x] = x % 256;
    RgbImage c2 = ClipTransform.resizeAndCenterCrop(gray(g2), 100);
    assertEquals(16, c2.get(0, 0, 0)); // round(15.5) = 16
  }

  @Test
  void randomResizedCropIsSeededAndCoversMostOfTheImage() {
    int[][] g = new int[120][160];
    for (int y = 0; y < 120; y++) for (int x = 0; x < 160; x++) g[y][x] = (x + y) % 256;
    ClipTransform t = new ClipTransform(64, ClipTransform.Kind.CLIP_RESIZEDCROP);
    float[] a = t.apply(gray(g), new SplittableRandom(9)), b = t.apply(gray(g), new SplittableRandom(9)), c = t.apply(gray(g), new SplittableRandom(10));
    assertArrayEquals(a, b);
    assertFalse(java.util.Arrays.equals(a, c));
  }

  /**
   * {@code image.crop_scale} widens the crop's area range: every box lies inside the image with an aspect ratio in
   * (3/4, 4/3) up to rounding and an area share in the range, and the draws spread over the range. M3AE's default
   * never goes below 0.9 of the area.
   */
  @Test
  void cropScaleSetsTheAreaRangeOfRandomCrops() {
    SplittableRandom rng = new SplittableRandom(3);
    double min = 1, max = 0;
    for (int k = 0; k < 400; k++) {
      int[] b = ClipTransform.cropBox(300, 240, 0.3, 0.6, rng);
      assertTrue(b[0] >= 0 && b[1] >= 0 && b[0] + b[2] <= 300 && b[1] + b[3] <= 240, java.util.Arrays.toString(b));
      double share = (double) b[2] * b[3] / (300 * 240), ratio = (double) b[2] / b[3];
      assertTrue(share > 0.3 - 0.01 && share < 0.6 + 0.01, "area share " + share);
      assertTrue(ratio > 0.75 - 0.01 && ratio < 4.0 / 3 + 0.01, "ratio " + ratio);
      min = Math.min(min, share);
      max = Math.max(max, share);
    }
    assertTrue(min < 0.33 && max > 0.57, "draws cover [" + min + ", " + max + "]");
    for (int k = 0; k < 200; k++) {
      int[] b = ClipTransform.cropBox(300, 240, 0.9, 1.0, rng);
      assertTrue((double) b[2] * b[3] / (300 * 240) > 0.89);
    }
    assertThrows(IllegalArgumentException.class, () -> new ClipTransform(32, ClipTransform.Kind.CLIP_RESIZEDCROP, 0.5, 0.4));
  }

  @Test
  void aPipelinesCropScaleReachesItsTransformAndABadOneNamesFileAndKey(@TempDir Path dir) throws Exception {
    String base = String.join("\n", "name: s", "task: pairs", "root: embedded:synthetic", "generator: {n: 20, seed: 1}", "format: jsonl",
        "splits: {train: {files: [captions_train.jsonl]}}", "fields: {image: image, text: caption}", "images: {dir: images, pattern: \"{image}.png\"}",
        "tokenizer: {file: \"embedded:synthetic\", style: bert, max_length: 40}", "");
    Path good = dir.resolve("good.yaml");
    java.nio.file.Files.writeString(good, base + "image: {size: 32, transforms: {train: clip_resizedcrop}, crop_scale: [0.25, 0.25]}\n");
    ClipTransform t = org.m3ae.data.config.PipelineLoader.load(good).image().transform("train");
    // A quarter of a 64 x 64 image: every crop is 32 x 32 up to the ratio, so the output is the crop at scale 1.
    int[][] g = new int[64][64];
    for (int y = 0; y < 64; y++) for (int x = 0; x < 64; x++) g[y][x] = (x * 4) % 256;
    RgbImage crop = t.geometry(gray(g), new SplittableRandom(5));
    int span = 0;
    for (int x = 0; x < 32; x++) span = Math.max(span, Math.abs(crop.get(x, 0, 0) - crop.get(0, 0, 0)));
    assertTrue(span < 4 * 48, "a quarter-area crop spans less than 48 source columns, got a value span of " + span);
    Path bad = dir.resolve("bad.yaml");
    java.nio.file.Files.writeString(bad, base + "image: {size: 32, crop_scale: [0.5, 1.5]}\n");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> org.m3ae.data.config.PipelineLoader.load(bad));
    assertTrue(e.getMessage().contains(bad.toString()) && e.getMessage().contains("crop_scale"), e.getMessage());
  }

  @Test
  void decodesGrayRgbRgbaAnd16Bit(@TempDir Path dir) throws Exception {
    BufferedImage rgb = Fixtures.noise(7, 5, BufferedImage.TYPE_INT_RGB, 4);
    ImageIO.write(rgb, "png", dir.resolve("rgb.png").toFile());
    RgbImage d = ImageDecoder.decode(dir.resolve("rgb.png"));
    for (int y = 0; y < 5; y++)
      for (int x = 0; x < 7; x++) {
        int p = rgb.getRGB(x, y);
        assertEquals((p >> 16) & 0xff, d.get(x, y, 0));
        assertEquals((p >> 8) & 0xff, d.get(x, y, 1));
        assertEquals(p & 0xff, d.get(x, y, 2));
      }
    BufferedImage rgba = new BufferedImage(3, 2, BufferedImage.TYPE_INT_ARGB);
    rgba.setRGB(1, 1, 0x10203040);
    ImageIO.write(rgba, "png", dir.resolve("rgba.png").toFile());
    RgbImage da = ImageDecoder.decode(dir.resolve("rgba.png"));
    assertEquals(0x20, da.get(1, 1, 0));
    assertEquals(0x30, da.get(1, 1, 1));
    assertEquals(0x40, da.get(1, 1, 2));
    BufferedImage g16 = new BufferedImage(4, 1, BufferedImage.TYPE_USHORT_GRAY);
    short[] v = {0, (short) 257, (short) 32768, (short) 65535};
    g16.getRaster().setDataElements(0, 0, 4, 1, v);
    ImageIO.write(g16, "png", dir.resolve("g16.png").toFile());
    RgbImage d16 = ImageDecoder.decode(dir.resolve("g16.png"));
    int[] expect = {0, 1, 128, 255};
    for (int x = 0; x < 4; x++) for (int c = 0; c < 3; c++) assertEquals(expect[x], d16.get(x, 0, c));
    BufferedImage g8 = new BufferedImage(2, 1, BufferedImage.TYPE_BYTE_GRAY);
    g8.getRaster().setDataElements(0, 0, 2, 1, new byte[] {17, (byte) 250});
    ImageIO.write(g8, "png", dir.resolve("g8.png").toFile());
    RgbImage d8 = ImageDecoder.decode(dir.resolve("g8.png"));
    assertEquals(250, d8.get(1, 0, 1));
    // JPEG: same pixels as Java's own decoder, up to IDCT rounding.
    Path j = Fixtures.jpeg(dir.resolve("a.jpg"), 16, 16, 6);
    BufferedImage ref = ImageIO.read(j.toFile());
    RgbImage dj = ImageDecoder.decode(j);
    for (int y = 0; y < 16; y++) for (int x = 0; x < 16; x++) assertEquals((ref.getRGB(x, y) >> 8) & 0xff, dj.get(x, y, 1), 3);
  }

  @Test
  void badImagesNameTheFileAndReason(@TempDir Path dir) throws Exception {
    assertReason(BadRecordReason.MISSING_IMAGE, dir.resolve("nope.jpg"));
    assertReason(BadRecordReason.CORRUPT_IMAGE, Fixtures.truncatedJpeg(dir.resolve("cut.jpg")));
    assertReason(BadRecordReason.UNSUPPORTED_IMAGE_FORMAT, Fixtures.gif(dir.resolve("x.gif")));
    assertReason(BadRecordReason.CORRUPT_IMAGE, Fixtures.garbageJpeg(dir.resolve("garbage.jpg")));
    java.nio.file.Files.write(dir.resolve("empty.png"), new byte[0]);
    assertReason(BadRecordReason.CORRUPT_IMAGE, dir.resolve("empty.png"));
  }

  private static void assertReason(BadRecordReason r, Path f) {
    ImageDecodeException e = assertThrows(ImageDecodeException.class, () -> ImageDecoder.decode(f));
    assertEquals(r, e.reason(), e.getMessage());
    assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
  }
}
