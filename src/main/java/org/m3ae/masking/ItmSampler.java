package org.m3ae.masking;

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
      for (int tries = 0; ; tries++) {
        int cand = rng.nextInt(datasetImageKeys.length);
        if (!datasetImageKeys[cand].equals(imageKeys[pos])) {
          swap[pos] = cand;
          break;
        }
        if (tries > 10_000) throw new IllegalStateException("ITM: every image of the dataset is the pair's own image; need at least two images");
      }
    }
    return swap;
  }
}
