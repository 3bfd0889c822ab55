package org.m3ae.tasks;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The paper's metrics (SPEC §5): VQA argmax accuracy overall / closed / open (M3AE's VQARADScore: the predicted
 * answer is the argmax logit, score 1 when it is the target answer), top-1 accuracy, and retrieval R@K in both
 * directions from a full image × text score matrix.
 */
public final class Metrics {
  private Metrics() {}

  /** Accuracies in [0, 1] and the counts behind them; NaN where a subset is empty. */
  public record VqaScore(int n, int closedN, int openN, int correct, int closedCorrect, int openCorrect) {
    public double overall() {
      return n == 0 ? Double.NaN : (double) correct / n;
    }

    public double closed() {
      return closedN == 0 ? Double.NaN : (double) closedCorrect / closedN;
    }

    public double open() {
      return openN == 0 ? Double.NaN : (double) openCorrect / openN;
    }

    public Map<String, Double> asMap() {
      Map<String, Double> m = new LinkedHashMap<>();
      m.put("open", open());
      m.put("closed", closed());
      m.put("overall", overall());
      return m;
    }
  }

  /**
   * Index of the largest value; on ties the first, as {@code torch.argmax} (M3AE's metric) returns it. NaN is never
   * the maximum.
   */
  public static int argmax(float[] row) {
    int best = -1;
    for (int i = 0; i < row.length; i++) {
      if (Float.isNaN(row[i])) continue;
      if (best < 0 || row[i] > row[best]) best = i;
    }
    if (best < 0) throw new IllegalArgumentException("argmax of a row without a finite value");
    return best;
  }

  /**
   * @param predicted predicted answer index per question
   * @param gold the target's index, or −1 for an answer outside the vocabulary (always wrong: such a question
   *     stays in the denominator)
   * @param closed answer type per question
   */
  public static VqaScore vqa(int[] predicted, int[] gold, boolean[] closed) {
    if (predicted.length != gold.length || gold.length != closed.length) {
      throw new IllegalArgumentException("lengths differ: " + predicted.length + " predictions, " + gold.length + " targets, "
          + closed.length + " answer types");
    }
    int n = gold.length, cn = 0, on = 0, c = 0, cc = 0, oc = 0;
    for (int i = 0; i < n; i++) {
      boolean ok = gold[i] >= 0 && predicted[i] == gold[i];
      if (closed[i]) cn++;
      else on++;
      if (ok) {
        c++;
        if (closed[i]) cc++;
        else oc++;
      }
    }
    return new VqaScore(n, cn, on, c, cc, oc);
  }

  /** Top-1 accuracy; a gold label of −1 (unknown class) counts as wrong. */
  public static double accuracy(int[] predicted, int[] gold) {
    if (predicted.length != gold.length) throw new IllegalArgumentException("lengths differ: " + predicted.length + " vs " + gold.length);
    if (gold.length == 0) return Double.NaN;
    int c = 0;
    for (int i = 0; i < gold.length; i++) if (gold[i] >= 0 && predicted[i] == gold[i]) c++;
    return (double) c / gold.length;
  }

  /**
   * Rank (0 = best) of candidate {@code target} in a score row. Ties rank pessimistically: every other candidate
   * with an equal score counts as ahead, so a model that scores everything alike gets no credit (a stable sort
   * would instead reward whichever pair happens to come first in file order).
   */
  public static int rank(float[] scores, int target) {
    float t = scores[target];
    int r = 0;
    for (int j = 0; j < scores.length; j++) {
      if (j == target) continue;
      if (Float.isNaN(scores[j])) continue;
      if (Float.isNaN(t) || scores[j] >= t) r++;
    }
    return r;
  }

  /**
   * R@K in both directions (M3AE's compute_irtr_recall; SPEC §5).
   *
   * @param scores [images][texts] matching scores
   * @param textImage image index of each text (several texts may share an image)
   * @param ks the K values (1, 5, 10)
   * @return {@code i2t_r<K>} (an image counts when any of its texts is in its top K texts) and {@code t2i_r<K>}
   */
  public static Map<String, Double> recall(float[][] scores, int[] textImage, int... ks) {
    int ni = scores.length;
    int nt = textImage.length;
    for (float[] row : scores) {
      if (row.length != nt) throw new IllegalArgumentException("score matrix rows must have " + nt + " columns, got " + row.length);
    }
    int[] bestTextRank = new int[ni];
    java.util.Arrays.fill(bestTextRank, Integer.MAX_VALUE);
    boolean[] hasText = new boolean[ni];
    for (int j = 0; j < nt; j++) {
      int i = textImage[j];
      if (i < 0 || i >= ni) throw new IllegalArgumentException("text " + j + " points at image " + i + " of " + ni);
      hasText[i] = true;
    }
    for (int i = 0; i < ni; i++) {
      for (int j = 0; j < nt; j++) {
        if (textImage[j] != i) continue;
        // the other true texts of image i are not competitors: rank among the wrong texts only
        float[] row = scores[i].clone();
        for (int j2 = 0; j2 < nt; j2++) if (j2 != j && textImage[j2] == i) row[j2] = Float.NaN;
        bestTextRank[i] = Math.min(bestTextRank[i], rank(row, j));
      }
    }
    int[] imageRank = new int[nt];
    float[] col = new float[ni];
    for (int j = 0; j < nt; j++) {
      for (int i = 0; i < ni; i++) col[i] = scores[i][j];
      imageRank[j] = rank(col, textImage[j]);
    }
    int withText = 0;
    for (boolean b : hasText) if (b) withText++;
    Map<String, Double> out = new LinkedHashMap<>();
    for (int k : ks) {
      int hit = 0;
      for (int i = 0; i < ni; i++) if (hasText[i] && bestTextRank[i] < k) hit++;
      out.put("i2t_r" + k, withText == 0 ? Double.NaN : (double) hit / withText);
    }
    for (int k : ks) {
      int hit = 0;
      for (int j = 0; j < nt; j++) if (imageRank[j] < k) hit++;
      out.put("t2i_r" + k, nt == 0 ? Double.NaN : (double) hit / nt);
    }
    return out;
  }

  /**
   * The R@K that scores drawn at random would get on average (no ties), with the keys of {@link #recall}: the chance
   * baseline of a retrieval table. Text → image: the one true image among {@code numImages} lands in the top K with
   * probability K / numImages. Image → text: an image with m true texts among n counts when its best true text has
   * fewer than K wrong texts above it, which fails only when the first K of a random order of the n − m wrong and the
   * m true texts are all wrong: 1 − C(n − m, K) / C(n, K); with one text per image, K / n.
   */
  public static Map<String, Double> recallChance(int numImages, int[] textImage, int... ks) {
    int nt = textImage.length;
    int[] perImage = new int[numImages];
    for (int j = 0; j < nt; j++) {
      int i = textImage[j];
      if (i < 0 || i >= numImages) throw new IllegalArgumentException("text " + j + " points at image " + i + " of " + numImages);
      perImage[i]++;
    }
    Map<String, Double> out = new LinkedHashMap<>();
    for (int k : ks) {
      double sum = 0;
      int withText = 0;
      for (int m : perImage) {
        if (m == 0) continue;
        withText++;
        // C(n − m, K) / C(n, K) = Π_{t<K} (n − m − t) / (n − t), 0 once n − m − t reaches 0
        double allWrong = 1;
        for (int t = 0; t < k && allWrong > 0; t++) allWrong *= Math.max(0, nt - m - t) / (double) (nt - t);
        sum += 1 - allWrong;
      }
      out.put("i2t_r" + k, withText == 0 ? Double.NaN : sum / withText);
    }
    for (int k : ks) out.put("t2i_r" + k, nt == 0 ? Double.NaN : Math.min(1.0, k / (double) numImages));
    return out;
  }
}
