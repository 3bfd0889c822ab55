package org.m3ae.train;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/**
 * Objective building blocks written from elementwise ops. In DL4J 1.0.0-M2.1 the {@code sd.loss.*} ops ignore the
 * upstream gradient, so a weighted or scaled loss built on them trains with the wrong gradient (DL4J-NOTES); these
 * compose safely with any weight.
 */
public final class Losses {
  private Losses() {}

  /** Mean of (a − b)² over every element: the hidden-state KD term of one layer pair (paper §3.2.1). */
  public static SDVariable mse(SameDiff sd, SDVariable a, SDVariable b) {
    SDVariable d = a.sub(b);
    return d.mul(d).mean();
  }

  /**
   * Attention KD of one layer pair (paper §3.2.2): (1/h)·Σ_heads MSE(A_S, A_T) on post-softmax probabilities
   * [B, h, Lq, Lk]. With equal-sized heads this equals the mean over every element.
   */
  public static SDVariable attentionKd(SameDiff sd, SDVariable studentProbs, SDVariable teacherProbs) {
    return mse(sd, studentProbs, teacherProbs);
  }

  /**
   * Per-row MSE averaged over the rows with weight 1: Σ_b w_b·mean((a_b − b_b)²) / max(Σw, 1). The KD terms use it
   * to distil only the rows where student and teacher saw the same pair.
   *
   * @param a,b [B, ...] of rank {@code rank}; w [B]
   */
  public static SDVariable rowWeightedMse(SameDiff sd, SDVariable a, SDVariable b, SDVariable w, int rank) {
    SDVariable d = a.sub(b);
    int[] rest = new int[rank - 1];
    for (int i = 1; i < rank; i++) rest[i - 1] = i;
    return weightedMean(sd, d.mul(d).mean(rest), w);
  }

  /** Σ(w·x) / max(Σw, 1): a mean over selected positions that is 0, not NaN, when none is selected. */
  public static SDVariable weightedMean(SameDiff sd, SDVariable x, SDVariable w) {
    return x.mul(w).sum().div(sd.math.max(w.sum(), sd.constant(1.0).castTo(w.dataType())));
  }

  /** log Σ exp(x) over the last axis (keepdims), stabilised by the row maximum. */
  public static SDVariable logSumExp(SameDiff sd, SDVariable x, int rank) {
    int ax = rank - 1;
    SDVariable m = x.max(true, ax);
    return sd.math.log(sd.math.exp(x.sub(m)).sum(true, ax)).add(m);
  }

  /**
   * Cross-entropy with integer labels, averaged over positions with weight 1 (MLM: masked tokens; ITM: every pair).
   *
   * @param logits [..., C]
   * @param labels int [...] in 0..C-1 (any valid id where the weight is 0, e.g. 0 in place of −100)
   * @param weights [...] 1 where the position counts, 0 elsewhere
   */
  public static SDVariable crossEntropy(SameDiff sd, SDVariable logits, SDVariable labels, SDVariable weights, int classes, int rank) {
    SDVariable oneHot = sd.oneHot(labels, classes, -1, 1.0, 0.0, logits.dataType());
    SDVariable picked = logits.mul(oneHot).sum(rank - 1); //                   [...]
    SDVariable lse = sd.squeeze(logSumExp(sd, logits, rank), rank - 1); //     [...]
    return weightedMean(sd, lse.sub(picked), weights);
  }

  /**
   * Binary cross-entropy with logits, elementwise, in the stable form max(x,0) − x·t + log(1 + e^−|x|); the VQA loss
   * is its mean times the number of answers (SPEC §2.5).
   */
  public static SDVariable bceWithLogits(SameDiff sd, SDVariable logits, SDVariable targets) {
    SDVariable pos = sd.nn.relu(logits, 0.0);
    SDVariable soft = sd.math.log(sd.math.exp(sd.math.abs(logits).neg()).add(1.0));
    return pos.sub(logits.mul(targets)).add(soft);
  }

  /**
   * MIM regression target (SPEC §2.3): the CLIP-normalised image cut into patches flattened in (row, col, channel)
   * order — not conv1's (channel, row, col) — and, with {@code normPix}, each patch standardised by its own mean
   * and unbiased variance (÷(n−1)) + 1e-6.
   *
   * @param image [B, C, H, W]
   * @return [B, N, P·P·C]
   */
  public static SDVariable mimTarget(SameDiff sd, SDVariable image, int channels, int grid, int patch, boolean normPix) {
    int dim = patch * patch * channels;
    SDVariable t = sd.reshape(image, -1, channels, grid, patch, grid, patch) // [B, C, gh, p, gw, q]
        .permute(0, 2, 4, 3, 5, 1); //                                          [B, gh, gw, p, q, C]
    t = sd.reshape(t, -1, grid * grid, dim); //                                 [B, N, P·P·C]
    if (!normPix) return t;
    SDVariable mu = t.mean(true, 2);
    SDVariable c = t.sub(mu);
    SDVariable var = c.mul(c).sum(true, 2).div(dim - 1.0);
    return c.div(sd.math.sqrt(var.add(1e-6)));
  }

  /**
   * MIM loss (SPEC §2.3): per-patch mean squared error over the patch vector, averaged over masked patches only.
   *
   * @param pred [B, N, D], target [B, N, D], masked [B, N] with 1 for removed patches
   */
  public static SDVariable mimLoss(SameDiff sd, SDVariable pred, SDVariable target, SDVariable masked) {
    SDVariable d = pred.sub(target);
    SDVariable perPatch = d.mul(d).mean(2); // [B, N]
    return weightedMean(sd, perPatch, masked);
  }

  /**
   * Rows of x [B, D] scaled to unit L2 norm, as {@code F.normalize(x, dim=1)}. The 1e-24 under the root stands in for
   * PyTorch's max(‖x‖, 1e-12) and keeps the gradient finite at x = 0.
   */
  public static SDVariable l2Normalize(SameDiff sd, SDVariable x) {
    SDVariable norm = sd.math.sqrt(x.mul(x).sum(true, 1).add(1e-24)); // [B, 1]
    return x.div(norm);
  }

  /**
   * MMKD-CLIP's feature-distillation term for one feature (SPEC §10, {@code KDClipLoss} fd_loss): F.mse_loss of the
   * normalised student feature against the (unit-norm) teacher feature, averaged over every element.
   *
   * @param studentNormed [B, D] already L2-normalised; teacher [B, D]
   */
  public static SDVariable featureDistillation(SameDiff sd, SDVariable studentNormed, SDVariable teacher) {
    return mse(sd, studentNormed, teacher);
  }

  /**
   * One direction of MMKD-CLIP's interactive contrastive term (SPEC §10, {@code KDClipLoss} icl_loss):
   * CE(s·A·Bᵀ, arange(B)) = mean_i [logsumexp_j(s·a_i·b_j) − s·a_i·b_i], the student's rows as anchors and the
   * teacher's as contrasts. The scale s multiplies directly, with no exp(), as in MMKD-CLIP and CLIP-KD.
   *
   * @param a [B, D] student (normalised), b [B, D] teacher (normalised), scale a scalar
   */
  public static SDVariable contrastive(SameDiff sd, SDVariable a, SDVariable b, SDVariable scale) {
    SDVariable logits = sd.mmul(a, b, false, true, false).mul(scale); // [B, B]
    SDVariable lse = sd.squeeze(logSumExp(sd, logits, 2), 1); //          [B]
    SDVariable positive = a.mul(b).sum(1).mul(scale); //                   [B]: the diagonal, label i for row i
    return lse.sub(positive).mean();
  }
}
