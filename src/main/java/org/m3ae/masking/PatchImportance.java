package org.m3ae.masking;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Stage 1 of the attention-guided mask (paper §3.3): per image–text pair, a score per patch from attention maps of
 * the unmasked pair. Uni-modal: the image encoder's last-layer CLS → patch attention, mean over heads (AttMask's
 * choice, SPEC §7). Multi-modal: the last co-attention layer's text → image cross-attention, mean over heads and
 * over the real (non-padding) text tokens. Scores from the selected sources are summed and min–max normalised to
 * [0, 1] per pair.
 */
public final class PatchImportance {
  private PatchImportance() {}

  /** @param visionAttn [B, h, 1+N, 1+N] → [B, N] */
  public static INDArray uniModal(INDArray visionAttn) {
    INDArray clsRow = visionAttn.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.point(0),
        NDArrayIndex.interval(1, visionAttn.size(3))); // [B, h, N]
    return clsRow.mean(1);
  }

  /**
   * @param crossAttn text → image [B, h, Lt, 1+N]
   * @param textMask [B, Lt] 1 real / 0 padding
   * @return [B, N]
   */
  public static INDArray multiModal(INDArray crossAttn, INDArray textMask) {
    INDArray perToken = crossAttn.mean(1); // [B, Lt, 1+N]
    long b = perToken.size(0), lt = perToken.size(1), li = perToken.size(2);
    INDArray m = textMask.castTo(perToken.dataType()).reshape(b, lt, 1);
    INDArray summed = perToken.mul(m).sum(1); // [B, 1+N]
    INDArray count = textMask.castTo(perToken.dataType()).sum(1).reshape(b, 1);
    INDArray mean = summed.div(count.add(1e-12));
    return mean.get(NDArrayIndex.all(), NDArrayIndex.interval(1, li));
  }

  /** Sum of the given [B, N] maps (nulls skipped), min–max normalised per row. */
  public static float[][] combine(INDArray... maps) {
    INDArray sum = null;
    for (INDArray m : maps) {
      if (m == null) continue;
      sum = sum == null ? m.dup() : sum.addi(m);
    }
    if (sum == null) throw new IllegalArgumentException("no attention map to build patch importance from");
    int b = (int) sum.size(0), n = (int) sum.size(1);
    float[][] out = new float[b][n];
    for (int i = 0; i < b; i++) {
      float min = Float.POSITIVE_INFINITY, max = Float.NEGATIVE_INFINITY;
      for (int j = 0; j < n; j++) {
        float v = sum.getFloat(i, j);
        out[i][j] = v;
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
      float range = max - min;
      for (int j = 0; j < n; j++) out[i][j] = range > 0 ? (out[i][j] - min) / range : 0f;
    }
    return out;
  }
}
