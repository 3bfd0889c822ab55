package org.m3ae.masking;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.random.RandomGenerator;

/**
 * ITM pairing (SPEC §2.4): half of a batch (floor(B/2)) keeps its own image, the other half gets a
 * random image from the dataset whose image differs from the pair's own, in a random order.
 */
public final class ItmSampler {

  private ItmSampler() {}

  /**
   * @param imageKeys the image identity of each pair in the batch
   * @param datasetImageKeys the image identity of every dataset index
   * @return for each batch position, the dataset index of the image to show, or -1 to keep its own
   */
  public static int[] negatives(String[] imageKeys, String[] datasetImageKeys, RandomGenerator rng) {
    return negatives(imageKeys, datasetImageKeys, rng, (pos, cand) -> 0, 1);
  }

  /**
   * {@link ItmNegatives#HARD}: as {@link #negatives(String[], String[], RandomGenerator)}, but each negative is the
   * image, among {@code candidates} random draws of other images, whose caption is nearest the pair's own.
   *
   * @param words the lower-cased word set of each batch position's caption
   * @param datasetWords the lower-cased word set of every dataset index's caption
   */
  public static int[] hardNegatives(String[] imageKeys, List<Set<String>> words, String[] datasetImageKeys,
      List<Set<String>> datasetWords, int candidates, RandomGenerator rng) {
    if (candidates < 1) throw new IllegalArgumentException("train.itm_candidates must be at least 1, got " + candidates);
    return negatives(imageKeys, datasetImageKeys, rng, (pos, cand) -> jaccard(words.get(pos), datasetWords.get(cand)), candidates);
  }

  /** Lower-cased word set of a caption (letters and digits; punctuation dropped). */
  public static Set<String> words(String text) {
    Set<String> out = new HashSet<>();
    for (String w : text.toLowerCase(java.util.Locale.ROOT).split("[^\\p{L}\\p{N}]+"))
      if (!w.isEmpty()) out.add(w);
    return out;
  }

  static double jaccard(Set<String> a, Set<String> b) {
    if (a.isEmpty() && b.isEmpty()) return 1;
    int common = 0;
    for (String w : a) if (b.contains(w)) common++;
    return common / (double) (a.size() + b.size() - common);
  }

  /** Scores a candidate dataset index for a batch position; the highest of the draws wins, the first on ties. */
  private interface Score {
    double of(int pos, int cand);
  }

  private static int[] negatives(String[] imageKeys, String[] datasetImageKeys, RandomGenerator rng, Score score, int draws) {
    int b = imageKeys.length;
    int[] order = new int[b];
    for (int i = 0; i < b; i++) order[i] = i;
    for (int i = b - 1; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    int[] swap = new int[b];
    java.util.Arrays.fill(swap, -1);
    for (int k = 0; k < b / 2; k++) {
      int pos = order[k];
      double best = Double.NEGATIVE_INFINITY;
      for (int d = 0; d < draws; d++) {
        int cand = otherImage(imageKeys[pos], datasetImageKeys, rng);
        double sc = score.of(pos, cand);
        if (sc > best) {
          best = sc;
          swap[pos] = cand;
        }
      }
    }
    return swap;
  }

  private static int otherImage(String own, String[] datasetImageKeys, RandomGenerator rng) {
    for (int tries = 0; ; tries++) {
      int cand = rng.nextInt(datasetImageKeys.length);
      if (!datasetImageKeys[cand].equals(own)) return cand;
      if (tries > 10_000) throw new IllegalStateException("ITM: every image of the dataset is the pair's own image; need at least two images");
    }
  }
}
