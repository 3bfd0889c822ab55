package org.m3ae.data.image;

import java.util.random.RandomGenerator;

/**
 * M3AE's image transforms (SPEC §3.4), producing CLIP-normalised float32 CHW.
 *
 * <p>{@code clip}: resize the shorter side to {@code size} (bicubic, torchvision 0.10 size rule),
 * centre crop, ToTensor, Normalize. {@code clip_resizedcrop}: torchvision's RandomResizedCrop with
 * scale (0.9, 1.0) — M3AE's — or the pipeline's {@code image.crop_scale}, and ratio (3/4, 4/3), then the same tail. Float arithmetic follows torch's
 * float32 {@code div(255)}, {@code sub_(mean)}, {@code div_(std)}.
 */
public final class ClipTransform {

  public static final float[] MEAN = {0.48145466f, 0.4578275f, 0.40821073f};
  public static final float[] STD = {0.26862954f, 0.26130258f, 0.27577711f};

  public enum Kind {
    CLIP,
    CLIP_RESIZEDCROP;

    public static Kind parse(String s) {
      return switch (s) {
        case "clip" -> CLIP;
        case "clip_resizedcrop" -> CLIP_RESIZEDCROP;
        default -> throw new IllegalArgumentException("unknown transform '" + s + "' (known: clip, clip_resizedcrop)");
      };
    }
  }

  /** M3AE's RandomResizedCrop area range (SPEC §3.4; torchvision's default is (0.08, 1.0)). */
  public static final double[] M3AE_CROP_SCALE = {0.9, 1.0};

  private final int size;
  private final Kind kind;
  private final double scaleLo, scaleHi;

  public ClipTransform(int size, Kind kind) {
    this(size, kind, M3AE_CROP_SCALE[0], M3AE_CROP_SCALE[1]);
  }

  /** @param scaleLo,scaleHi the share of the image's area a random crop covers, drawn uniformly in this range */
  public ClipTransform(int size, Kind kind, double scaleLo, double scaleHi) {
    if (size <= 0) throw new IllegalArgumentException("image size must be positive, got " + size);
    if (!(0 < scaleLo && scaleLo <= scaleHi && scaleHi <= 1))
      throw new IllegalArgumentException("crop scale must satisfy 0 < low <= high <= 1, got [" + scaleLo + ", " + scaleHi + "]");
    this.size = size;
    this.kind = kind;
    this.scaleLo = scaleLo;
    this.scaleHi = scaleHi;
  }

  public int size() {
    return size;
  }

  /** Writes the {@code 3*size*size} normalised values into {@code out} at {@code offset}. */
  public void apply(RgbImage img, RandomGenerator rng, float[] out, int offset) {
    normalize(geometry(img, rng), out, offset);
  }

  /** The resize/crop part alone: a {@code size x size} 8-bit image. */
  public RgbImage geometry(RgbImage img, RandomGenerator rng) {
    return kind == Kind.CLIP ? resizeAndCenterCrop(img, size) : randomResizedCrop(img, size, scaleLo, scaleHi, rng);
  }

  /** True when the output depends on the image only (no random augmentation), so it may be cached. */
  public boolean deterministic() {
    return kind == Kind.CLIP;
  }

  public float[] apply(RgbImage img, RandomGenerator rng) {
    float[] out = new float[3 * size * size];
    apply(img, rng, out, 0);
    return out;
  }

  /** torchvision 0.10 {@code Resize(int)} then {@code CenterCrop}. */
  public static RgbImage resizeAndCenterCrop(RgbImage img, int size) {
    int w = img.width(), h = img.height();
    RgbImage r = img;
    if (!((w <= h && w == size) || (h <= w && h == size))) {
      // Python int(size * long / short): float division then truncation.
      if (w < h) r = PilBicubic.resize(img, size, (int) ((double) size * h / w));
      else r = PilBicubic.resize(img, (int) ((double) size * w / h), size);
    }
    return centerCrop(r, size);
  }

  public static RgbImage centerCrop(RgbImage img, int size) {
    if (img.width() < size || img.height() < size)
      throw new IllegalArgumentException("centre crop " + size + " larger than " + img.width() + "x" + img.height());
    // torchvision: int(round((h - th) / 2.0)) with Python's half-to-even round.
    int top = (int) Math.rint((img.height() - size) / 2.0);
    int left = (int) Math.rint((img.width() - size) / 2.0);
    return img.crop(left, top, size, size);
  }

  /** torchvision 0.10 {@code RandomResizedCrop} with M3AE's scale (0.9, 1.0), ratio (3/4, 4/3). */
  public static RgbImage randomResizedCrop(RgbImage img, int size, RandomGenerator rng) {
    return randomResizedCrop(img, size, M3AE_CROP_SCALE[0], M3AE_CROP_SCALE[1], rng);
  }

  public static RgbImage randomResizedCrop(RgbImage img, int size, double scaleLo, double scaleHi, RandomGenerator rng) {
    int[] box = cropBox(img.width(), img.height(), scaleLo, scaleHi, rng);
    return PilBicubic.resize(img.crop(box[0], box[1], box[2], box[3]), size, size);
  }

  /**
   * torchvision 0.10 {@code RandomResizedCrop.get_params}: up to ten draws of an area share in [scaleLo, scaleHi]
   * and a log-uniform aspect ratio in (3/4, 4/3), else the central crop at the nearest allowed ratio.
   *
   * @return {left, top, width, height}
   */
  public static int[] cropBox(int width, int height, double scaleLo, double scaleHi, RandomGenerator rng) {
    double area = (double) width * height;
    double logLo = Math.log(3.0 / 4.0), logHi = Math.log(4.0 / 3.0);
    for (int attempt = 0; attempt < 10; attempt++) {
      double target = area * (scaleLo + (scaleHi - scaleLo) * rng.nextDouble());
      double ratio = Math.exp(logLo + (logHi - logLo) * rng.nextDouble());
      int w = (int) Math.rint(Math.sqrt(target * ratio));
      int h = (int) Math.rint(Math.sqrt(target / ratio));
      if (0 < w && w <= width && 0 < h && h <= height) {
        int i = rng.nextInt(height - h + 1);
        int j = rng.nextInt(width - w + 1);
        return new int[] {j, i, w, h};
      }
    }
    double inRatio = (double) width / height;
    int w, h;
    if (inRatio < 3.0 / 4.0) {
      w = width;
      h = (int) Math.rint(w / (3.0 / 4.0));
    } else if (inRatio > 4.0 / 3.0) {
      h = height;
      w = (int) Math.rint(h * (4.0 / 3.0));
    } else {
      w = width;
      h = height;
    }
    h = Math.min(h, height);
    w = Math.min(w, width);
    return new int[] {(width - w) / 2, (height - h) / 2, w, h};
  }

  public static void normalize(RgbImage img, float[] out, int offset) {
    int hw = img.width() * img.height();
    byte[] rgb = img.rgb();
    for (int c = 0; c < 3; c++) {
      float m = MEAN[c], s = STD[c];
      int base = offset + c * hw;
      for (int p = 0; p < hw; p++) out[base + p] = ((rgb[p * 3 + c] & 0xff) / 255f - m) / s;
    }
  }
}
