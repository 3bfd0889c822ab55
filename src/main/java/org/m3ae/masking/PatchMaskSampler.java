package org.m3ae.masking;

import java.util.random.RandomGenerator;

/**
 * Chooses which patches of one image MIM hides. The random sampler of SPEC §2.3 implements it;
 * the attention-guided sampler (SPEC §7, §6.1) replaces it and reads {@code patchScores} (the
 * teacher's CLS-to-patch attention). Implementations must return exactly {@code
 * PatchMask.lenKeep(numPatches, ratio)} visible patches so batches stay rectangular.
 */
public interface PatchMaskSampler {

  /**
   * @param numPatches patches of the image ({@code (size/16)^2})
   * @param patchScores per-patch scores for guided samplers, or null when none are available
   * @param rng this sample's generator (seeded per sample for determinism)
   */
  PatchMask sample(int numPatches, float[] patchScores, RandomGenerator rng);

  double maskRatio();
}
