package org.m3ae.masking;

import java.util.random.RandomGenerator;

/** MAE {@code random_masking} (SPEC §2.3): a uniformly random subset of {@code len_keep} patches stays visible. */
public final class RandomPatchMaskSampler implements PatchMaskSampler {

  private final double ratio;

  public RandomPatchMaskSampler(double ratio) {
    if (!(ratio > 0 && ratio < 1)) throw new IllegalArgumentException("mask ratio must be in (0,1), got " + ratio);
    this.ratio = ratio;
  }

  @Override
  public PatchMask sample(int numPatches, float[] patchScores, RandomGenerator rng) {
    int keep = PatchMask.lenKeep(numPatches, ratio);
    // Partial Fisher-Yates: the first `keep` slots are a uniform random subset, like argsort(rand)[:keep].
    int[] perm = new int[numPatches];
    for (int i = 0; i < numPatches; i++) perm[i] = i;
    for (int i = 0; i < keep; i++) {
      int j = i + rng.nextInt(numPatches - i);
      int t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
    boolean[] masked = new boolean[numPatches];
    java.util.Arrays.fill(masked, true);
    for (int i = 0; i < keep; i++) masked[perm[i]] = false;
    return PatchMask.fromMaskedFlags(masked);
  }

  @Override
  public double maskRatio() {
    return ratio;
  }
}
