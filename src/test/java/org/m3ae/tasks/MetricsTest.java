package org.m3ae.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The paper's metrics against cases computed by hand. */
class MetricsTest {
  @Test
  void argmaxTakesTheFirstOfTiedMaxima() {
    assertEquals(1, Metrics.argmax(new float[] {0.1f, 0.7f, 0.7f, 0.2f}));
    assertEquals(0, Metrics.argmax(new float[] {3f, 3f, 3f}));
    assertEquals(2, Metrics.argmax(new float[] {Float.NaN, -1f, 5f}));
    assertThrows(IllegalArgumentException.class, () -> Metrics.argmax(new float[] {Float.NaN}));
  }

  @Test
  void vqaSplitsClosedAndOpenAndCountsUnseenAnswersWrong() {
    // 4 closed (3 right), 3 open (1 right, 1 wrong, 1 answer outside the vocabulary predicted "right" by index)
    int[] pred = {0, 1, 1, 0, 5, 6, 7};
    int[] gold = {0, 1, 1, 1, 5, 2, -1};
    boolean[] closed = {true, true, true, true, false, false, false};
    Metrics.VqaScore s = Metrics.vqa(pred, gold, closed);
    assertEquals(7, s.n());
    assertEquals(4, s.closedN());
    assertEquals(3, s.openN());
    assertEquals(0.75, s.closed(), 1e-12);
    assertEquals(1.0 / 3, s.open(), 1e-12);
    assertEquals(4.0 / 7, s.overall(), 1e-12); // overall is per question, not the mean of closed and open
    Map<String, Double> m = s.asMap();
    assertEquals(0.75, m.get("closed"), 1e-12);
  }

  @Test
  void vqaRejectsMismatchedLengthsAndEmptySubsetsAreNaN() {
    assertThrows(IllegalArgumentException.class, () -> Metrics.vqa(new int[2], new int[3], new boolean[3]));
    Metrics.VqaScore s = Metrics.vqa(new int[] {1}, new int[] {1}, new boolean[] {true});
    assertEquals(1.0, s.closed());
    assertEquals(Double.NaN, s.open());
  }

  @Test
  void accuracyCountsUnknownLabelsWrong() {
    assertEquals(0.5, Metrics.accuracy(new int[] {1, 2, 3, 0}, new int[] {1, 2, -1, 1}), 1e-12);
  }

  @Test
  void recallOnAHandBuiltScoreMatrix() {
    // 3 images, 4 texts; text 3 is a second caption of image 0
    float[][] s = {
        {0.9f, 0.1f, 0.8f, 0.2f}, // image 0: own texts 0 (rank 0) and 3
        {0.5f, 0.4f, 0.6f, 0.0f}, // image 1: own text 1 is behind texts 2 and 0 → rank 2
        {0.1f, 0.2f, 0.3f, 0.9f}, // image 2: own text 2 is behind text 3 (of image 0) → rank 1
    };
    int[] textImage = {0, 1, 2, 0};
    Map<String, Double> r = Metrics.recall(s, textImage, 1, 2, 3);
    assertEquals(1.0 / 3, r.get("i2t_r1"), 1e-12);
    assertEquals(2.0 / 3, r.get("i2t_r2"), 1e-12);
    assertEquals(1.0, r.get("i2t_r3"), 1e-12);
    // text→image: column 0 → image 0 first; col 1 → image 1 (0.4) first; col 2 → image 0 (0.8) > 1 (0.6) > 2 (0.3): rank 2;
    // col 3 → image 2 (0.9) > image 0 (0.2): rank 1
    assertEquals(0.5, r.get("t2i_r1"), 1e-12);
    assertEquals(0.75, r.get("t2i_r2"), 1e-12);
    assertEquals(1.0, r.get("t2i_r3"), 1e-12);
  }

  @Test
  void tiesRankPessimisticallySoConstantScoresEarnNothing() {
    float[][] s = {{1f, 1f}, {1f, 1f}};
    Map<String, Double> r = Metrics.recall(s, new int[] {0, 1}, 1, 2);
    assertEquals(0.0, r.get("i2t_r1"));
    assertEquals(0.0, r.get("t2i_r1"));
    assertEquals(1.0, r.get("i2t_r2"));
    assertEquals(1, Metrics.rank(new float[] {0.5f, 0.5f, 0.1f}, 0));
    assertEquals(1, Metrics.rank(new float[] {0.5f, 0.5f, 0.1f}, 1));
  }

  @Test
  void recallChecksShapes() {
    assertThrows(IllegalArgumentException.class, () -> Metrics.recall(new float[][] {{1f}}, new int[] {0, 0}, 1));
    assertThrows(IllegalArgumentException.class, () -> Metrics.recall(new float[][] {{1f}}, new int[] {3}, 1));
  }

  @Test
  void majorityTieBreakIsAlphabetical() {
    assertEquals("no", Evaluator.argmaxKey(new java.util.HashMap<>(Map.of("yes", 3, "no", 3, "left", 1))));
  }

  /** The chance R@K against brute force: the mean of {@link Metrics#recall} over every ordering of distinct scores. */
  @Test
  void recallChanceIsTheMeanRecallOverEveryOrderingOfTheScores() {
    int ni = 3;
    int[] textImage = {0, 0, 1, 2, 2}; // image 0 and 2 with two texts, image 1 with one
    int nt = textImage.length;
    int[] ks = {1, 2, 4};
    Map<String, Double> chance = Metrics.recallChance(ni, textImage, ks);
    // the rank of each text in an image's row and of each image in a text's column is all that recall reads: average
    // over every permutation of the text scores of each row and of the image scores of each column
    java.util.List<int[]> textPerms = permutations(nt), imagePerms = permutations(ni);
    Map<String, Double> sum = new java.util.TreeMap<>();
    long count = 0;
    for (int[] rowPerm : textPerms) {
      for (int[] colPerm : imagePerms) {
        float[][] s = new float[ni][nt];
        // every image row orders the texts by rowPerm, every text column orders the images by colPerm: the i2t
        // ranks depend only on the rows, the t2i ranks only on the columns, so this averages each direction exactly
        for (int i = 0; i < ni; i++) for (int j = 0; j < nt; j++) s[i][j] = rowPerm[j] * 10 + colPerm[i];
        Metrics.recall(s, textImage, ks).forEach((k, v) -> sum.merge(k, v, Double::sum));
        count++;
      }
    }
    for (String key : chance.keySet()) assertEquals(sum.get(key) / count, chance.get(key), 1e-12, key);
    // hand-computed: K = 1, images 0 and 2 have 2 of 5 texts: 1 − 3/5 = 0.4; image 1: 1/5. Mean (0.4 + 0.2 + 0.4) / 3
    assertEquals((0.4 + 0.2 + 0.4) / 3, chance.get("i2t_r1"), 1e-12);
    assertEquals(1 / 3.0, chance.get("t2i_r1"), 1e-12);
    assertEquals(1.0, chance.get("t2i_r4"), 0.0, "K beyond the images: every text finds its image");
  }

  private static java.util.List<int[]> permutations(int n) {
    java.util.List<int[]> out = new java.util.ArrayList<>();
    permute(new int[n], new boolean[n], 0, out);
    return out;
  }

  private static void permute(int[] a, boolean[] used, int pos, java.util.List<int[]> out) {
    if (pos == a.length) {
      out.add(a.clone());
      return;
    }
    for (int v = 0; v < a.length; v++) {
      if (used[v]) continue;
      used[v] = true;
      a[pos] = v;
      permute(a, used, pos + 1, out);
      used[v] = false;
    }
  }
}
