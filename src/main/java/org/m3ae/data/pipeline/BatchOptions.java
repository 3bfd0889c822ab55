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

  /**
   * Pre-training as SPEC §2.1 and M3AE: MLM at 15 % with whole-word masking, MIM with a random 75 % patch mask, ITM
   * with random negatives, 16 px patches. Adjust with the {@code with…} methods.
   */
  public static BatchOptions pretraining() {
    return new BatchOptions(true, 0.15, new RandomPatchMaskSampler(0.75), true, 16, MlmMasking.WHOLE_WORD,
        ItmNegatives.RANDOM, 1);
  }

  /** Fine-tuning and evaluation: image, text and the task's labels only. */
  public static BatchOptions plain() {
    return new BatchOptions(false, 0.15, null, false, 16, MlmMasking.WHOLE_WORD, ItmNegatives.RANDOM, 1);
  }

  /** MLM corruption and labels at {@code probability} with {@code masking}. */
  public BatchOptions withMlm(double probability, MlmMasking masking) {
    return new BatchOptions(true, probability, mimSampler, itm, patchSize, masking, itmNegatives, itmCandidates);
  }

  public BatchOptions withoutMlm() {
    return new BatchOptions(false, mlmProbability, mimSampler, itm, patchSize, mlmMasking, itmNegatives, itmCandidates);
  }

  /** MIM arrays from {@code sampler}; null: none. */
  public BatchOptions withMim(PatchMaskSampler sampler) {
    return new BatchOptions(mlm, mlmProbability, sampler, itm, patchSize, mlmMasking, itmNegatives, itmCandidates);
  }

  /** ITM images and labels, negatives picked by {@code negatives} among {@code candidates} (1 for random). */
  public BatchOptions withItm(ItmNegatives negatives, int candidates) {
    return new BatchOptions(mlm, mlmProbability, mimSampler, true, patchSize, mlmMasking, negatives, candidates);
  }

  public BatchOptions withoutItm() {
    return new BatchOptions(mlm, mlmProbability, mimSampler, false, patchSize, mlmMasking, itmNegatives, itmCandidates);
  }

  public BatchOptions withPatchSize(int size) {
    return new BatchOptions(mlm, mlmProbability, mimSampler, itm, size, mlmMasking, itmNegatives, itmCandidates);
  }
}
