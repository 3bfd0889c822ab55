package org.m3ae.masking;

import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * The attention-guided progressive MIM mask of M3AE-Distill (paper §3.3, stage 2): patches are ranked by importance;
 * the top (1 − r) share — the high-attention group — is always masked; the rest of the mask budget (the configured
 * ratio, M3AE's 75 %) is drawn at random from the low-attention group; patch order is restored. r falls over
 * training ({@link #setR}), so the model is asked to reconstruct ever more of the salient patches.
 *
 * <p>Ties in importance are broken by patch index so that a mask depends only on (scores, r, rng).
 */
public final class AttentionGuidedSampler implements PatchMaskSampler {
  private final double ratio;
  private volatile double r;

  public AttentionGuidedSampler(double ratio, double initialR) {
    this.ratio = ratio;
    this.r = initialR;
  }

  /** r(step) = r_start − (r_start − r_end)·step/max_steps (paper §3.3). */
  public static double schedule(double rStart, double rEnd, int step, int maxSteps) {
    return rStart - (rStart - rEnd) * Math.min(1.0, (double) step / Math.max(1, maxSteps));
  }

  public void setR(double r) {
    this.r = r;
  }

  public double r() {
    return r;
  }

  /** Size of the high-attention group for {@code n} patches at the current r. */
  public int highCount(int n) {
    return (int) Math.floor((1.0 - r) * n + 1e-9);
  }

  @Override
  public PatchMask sample(int numPatches, float[] patchScores, RandomGenerator rng) {
    if (patchScores == null) throw new IllegalArgumentException("the attention-guided mask needs patch scores");
    int n = numPatches;
    int masked = n - PatchMask.lenKeep(n, ratio);
    int high = Math.min(highCount(n), masked);
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) order[i] = i;
    Arrays.sort(order, (a, b) -> {
      int c = Float.compare(patchScores[b], patchScores[a]);
      return c != 0 ? c : Integer.compare(a, b);
    });
    boolean[] isMasked = new boolean[n];
    for (int i = 0; i < high; i++) isMasked[order[i]] = true;
    // The remaining budget at random from the low-attention group: a partial Fisher–Yates over its members.
    int[] low = new int[n - high];
    for (int i = high; i < n; i++) low[i - high] = order[i];
    Arrays.sort(low); // draw order independent of how the sort above arranged equal scores
    int need = masked - high;
    for (int i = 0; i < need; i++) {
      int j = i + rng.nextInt(low.length - i);
      int t = low[i];
      low[i] = low[j];
      low[j] = t;
      isMasked[low[i]] = true;
    }
    return PatchMask.fromMaskedFlags(isMasked);
  }

  @Override
  public double maskRatio() {
    return ratio;
  }
}
