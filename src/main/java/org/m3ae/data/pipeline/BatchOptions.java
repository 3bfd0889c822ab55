package org.m3ae.data.pipeline;

import org.m3ae.masking.ItmNegatives;
import org.m3ae.masking.MlmMasking;
import org.m3ae.masking.PatchMaskSampler;
import org.m3ae.masking.RandomPatchMaskSampler;

/**
 * What a batch carries beyond image and text.
 *
 * @param mlm add MLM corruption and labels
 * @param mlmProbability SPEC §2.2: 0.15
 * @param mlmMasking which tokens MLM corrupts (M3AE: the whole-word collator)
 * @param mimSampler null for no MIM arrays; else the patch sampler (random, or attention-guided)
 * @param itm add the ITM images and labels
 * @param patchSize ViT patch size (SPEC §1.1: 16)
 * @param itmNegatives how the ITM negatives' images are picked (M3AE: at random)
 * @param itmCandidates for {@link ItmNegatives#HARD}: random other images drawn per negative, the nearest caption wins
 */
public record BatchOptions(boolean mlm, double mlmProbability, PatchMaskSampler mimSampler, boolean itm, int patchSize,
    MlmMasking mlmMasking, ItmNegatives itmNegatives, int itmCandidates) {

  /** With M3AE's whole-word MLM masking. */
  public BatchOptions(boolean mlm, double mlmProbability, PatchMaskSampler mimSampler, boolean itm, int patchSize) {
    this(mlm, mlmProbability, mimSampler, itm, patchSize, MlmMasking.WHOLE_WORD);
  }

  /** With M3AE's random ITM negatives. */
  public BatchOptions(boolean mlm, double mlmProbability, PatchMaskSampler mimSampler, boolean itm, int patchSize,
      MlmMasking mlmMasking) {
    this(mlm, mlmProbability, mimSampler, itm, patchSize, mlmMasking, ItmNegatives.RANDOM, 1);
  }

  /** Pre-training: MLM + MIM (75%) + ITM, as SPEC §2.1. */
  public static BatchOptions pretraining() {
    return new BatchOptions(true, 0.15, new RandomPatchMaskSampler(0.75), true, 16);
  }

  /** Fine-tuning and evaluation: image, text and the task's labels only. */
  public static BatchOptions plain() {
    return new BatchOptions(false, 0.15, null, false, 16);
  }
}
