package org.m3ae.data.synth;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * One synthetic "scan": a body outline of a region and modality with one finding, which has a kind, side, size and
 * intensity. The caption states all of them; the VQA questions are balanced so that the question alone (text only)
 * gives chance on the closed and the side questions.
 *
 * <p>One finding per scan since generator v4. With two (v1–v3) every question named one finding by its kind and the
 * answer needed the attributes bound to the right object; the demo's models did not learn that within its budget
 * (validation VQA at the template priors after 400 fine-tuning steps, 0.59 after 1000), while one finding per scan
 * reaches 0.77 after 600 (docs/training.md, "VQA on the synthetic set").
 */
public record SyntheticScene(int width, int height, String modality, String region, List<Finding> findings) {

  public static final List<String> KINDS = List.of("nodule", "cyst", "mass");
  public static final List<String> SIDES = List.of("left", "right");
  public static final List<String> SIZES = List.of("small", "large");
  public static final List<String> INTENSITIES = List.of("bright", "dark");
  public static final List<String> MODALITIES = List.of("ct", "mri");
  public static final List<String> REGIONS = List.of("head", "chest", "abdomen");
  /** Every word a caption or question uses; the embedded tokenizer is built from it. */
  public static final List<String> WORDS =
      List.of("ct", "mri", "of", "the", "head", "chest", "abdomen", "shows", "a", "small", "large", "bright", "dark", "nodule", "cyst", "mass",
          "on", "left", "right", "and", "is", "there", "which", "side", "what", "size", "finding", "yes", "no");

  /** "left" is the left half of the image. {@code (cx, cy)} centre and {@code r} radius in pixels. */
  public record Finding(String kind, String side, String size, String intensity, int cx, int cy, int r) {
    String phrase() {
      return "a " + size + " " + intensity + " " + kind + " on the " + side;
    }
  }

  public record Question(String question, String answer, boolean closed) {}

  /**
   * Geometry is in fractions of the scan's side so that it survives the models' downscaling: the demo's models see the
   * scan at 32 px (8 px patches), where a small finding is ~5 px and a large one ~10 px across, and the kinds differ in
   * shape at that scale (filled disk, hollow ring, flat oval). In generator v2 a small finding was ~1 px at 32 px and the
   * pre-trained backbone learnt nothing about kind or size (docs/training.md, "VQA on the synthetic set").
   */
  static SyntheticScene random(SplittableRandom rng) {
    // Square scans: the models' centre crop then keeps the whole width, so no finding is cut off.
    int w = 192 + rng.nextInt(17), h = w;
    String modality = MODALITIES.get(rng.nextInt(2)), region = REGIONS.get(rng.nextInt(3));
    String side = SIDES.get(rng.nextInt(2)), kind = KINDS.get(rng.nextInt(3)), size = SIZES.get(rng.nextInt(2));
    int r = (int) Math.round(w * (size.equals("small") ? 0.07 + 0.01 * rng.nextDouble() : 0.15 + 0.01 * rng.nextDouble()));
    double fx = side.equals("left") ? 0.26 + 0.04 * rng.nextDouble() : 0.70 + 0.04 * rng.nextDouble();
    int cy = (int) (h * (0.42 + 0.16 * rng.nextDouble()));
    Finding f = new Finding(kind, side, size, INTENSITIES.get(rng.nextInt(2)), (int) (w * fx), cy, r);
    return new SyntheticScene(w, h, modality, region, List.of(f));
  }

  public String caption() {
    return modality + " of the " + region + " shows " + findings.get(0).phrase() + ".";
  }

  /** Five questions: presence and intensity (closed, yes/no balanced), side, size and kind (open). */
  List<Question> questions(SplittableRandom rng) {
    List<Question> qs = new ArrayList<>();
    Finding f = findings.get(0);
    boolean askTrue = rng.nextBoolean();
    String kind = f.kind(), side = f.side();
    if (!askTrue) {
      // A combination absent from the image: the finding's kind on the other side, or another kind on either side.
      do {
        kind = KINDS.get(rng.nextInt(3));
        side = SIDES.get(rng.nextInt(2));
      } while (has(kind, side));
    }
    qs.add(new Question("is there a " + kind + " on the " + side + "?", has(kind, side) ? "yes" : "no", true));
    String inten = INTENSITIES.get(rng.nextInt(2));
    qs.add(new Question("is the " + f.kind() + " " + inten + "?", f.intensity().equals(inten) ? "yes" : "no", true));
    qs.add(new Question("which side is the " + f.kind() + " on?", f.side(), false));
    qs.add(new Question("what size is the " + f.kind() + "?", f.size(), false));
    // Asked of the finding's own side: a question about the empty side would have no answer.
    qs.add(new Question("what is the finding on the " + f.side() + "?", f.kind(), false));
    return qs;
  }

  private boolean has(String kind, String side) {
    return findings.stream().anyMatch(x -> x.kind().equals(kind) && x.side().equals(side));
  }

  static final double MASS_WIDTH = 1.35, MASS_HEIGHT = 0.6;

  /** 8-bit grayscale pixels, row-major. */
  byte[] render(SplittableRandom rng) {
    int[] px = new int[width * height];
    int tissue = modality.equals("ct") ? 100 : 135;
    double cx = width / 2.0, cy = height / 2.0;
    double ax = region.equals("head") ? 0.42 * Math.min(width, height) : 0.46 * width;
    double ay = region.equals("head") ? ax : 0.36 * height;
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        double d = Math.hypot((x - cx) / ax, (y - cy) / ay);
        int v = 12;
        if (d <= 1.0) {
          v = tissue;
          // CT shows a bright cortical rim; MRI does not.
          if (modality.equals("ct") && d > 1.0 - 5.0 / Math.min(ax, ay)) v = 215;
          if (region.equals("chest") && Math.abs(x - cx) < 5 && Math.abs(y - cy) < ay * 0.7) v = 190;
          if (region.equals("abdomen") && Math.hypot(x - cx, y - cy - ay * 0.3) < 7) v = 170;
        }
        px[y * width + x] = v;
      }
    }
    for (Finding f : findings) {
      int val = f.intensity().equals("bright") ? 240 : 20;
      int reach = (int) Math.ceil(f.r() * MASS_WIDTH) + 1;
      for (int y = Math.max(0, f.cy() - f.r() - 1); y <= Math.min(height - 1, f.cy() + f.r() + 1); y++) {
        for (int x = Math.max(0, f.cx() - reach); x <= Math.min(width - 1, f.cx() + reach); x++) {
          double d = Math.hypot(x - f.cx(), y - f.cy());
          boolean on =
              switch (f.kind()) {
                case "nodule" -> d <= f.r();
                // A thick wall around a hollow of tissue: the hollow stays visible at the models' 32 px.
                case "cyst" -> d <= f.r() && d >= 0.55 * f.r();
                // A flat oval: wider and lower than a nodule of the same size, so the kinds differ in outline too.
                case "mass" -> Math.hypot((x - f.cx()) / (MASS_WIDTH * f.r()), (y - f.cy()) / (MASS_HEIGHT * f.r())) <= 1.0;
                default -> throw new IllegalStateException(f.kind());
              };
          if (on) px[y * width + x] = val;
        }
      }
    }
    byte[] out = new byte[px.length];
    for (int i = 0; i < px.length; i++) out[i] = (byte) Math.max(0, Math.min(255, (int) Math.round(px[i] + rng.nextGaussian() * 5)));
    return out;
  }

  public String describe() {
    return String.format(Locale.ROOT, "%dx%d %s %s %s", width, height, modality, region, findings);
  }
}
