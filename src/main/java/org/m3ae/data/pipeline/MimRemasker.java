package org.m3ae.data.pipeline;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.m3ae.masking.PatchMask;
import org.m3ae.masking.PatchMaskSampler;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Replaces a batch's MIM arrays with masks from another sampler, for samplers that need what only
 * the training loop has: the attention-guided mask (SPEC §7) reads the teacher's CLS-to-patch
 * attention of this very batch. Text, image and labels are left untouched.
 */
public final class MimRemasker {

  private MimRemasker() {}

  /**
   * @param patchScores per row, one score per patch (null rows or a null array for none)
   * @param seed with the row's index, seeds each row's generator
   */
  public static Batch remask(Batch batch, PatchMaskSampler sampler, int numPatches, float[][] patchScores, long seed) {
    int b = batch.size();
    int nk = PatchMask.lenKeep(numPatches, sampler.maskRatio());
    int[] keep = new int[b * nk], restore = new int[b * numPatches];
    float[] masked = new float[b * numPatches];
    for (int i = 0; i < b; i++) {
      float[] s = patchScores == null ? null : patchScores[i];
      if (s != null && s.length != numPatches) throw new IllegalArgumentException("row " + i + ": " + s.length + " patch scores for " + numPatches + " patches");
      PatchMask pm = sampler.sample(numPatches, s, new SplittableRandom(seed * 1_000_003L + i));
      if (pm.keep().length != nk) throw new IllegalStateException("sampler kept " + pm.keep().length + " patches, expected " + nk);
      System.arraycopy(pm.keep(), 0, keep, i * nk, nk);
      System.arraycopy(pm.restore(), 0, restore, i * numPatches, numPatches);
      for (int m : pm.masked()) masked[i * numPatches + m] = 1f;
    }
    Map<String, org.nd4j.linalg.api.ndarray.INDArray> arrays = new LinkedHashMap<>(batch.arrays());
    arrays.put(BatchKeys.IMAGE_KEEP_IDS, Nd4j.createFromArray(keep).reshape('c', b, nk));
    arrays.put(BatchKeys.IMAGE_RESTORE_IDS, Nd4j.createFromArray(restore).reshape('c', b, numPatches));
    arrays.put(BatchKeys.IMAGE_MIM_MASK, Nd4j.createFromArray(masked).reshape('c', b, numPatches));
    return new Batch(arrays, batch.ids(), batch.locations());
  }
}
