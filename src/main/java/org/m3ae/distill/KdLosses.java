package org.m3ae.distill;

import org.m3ae.train.Losses;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/**
 * The KD terms beyond the paper's literal MSEs (issue 18 §2), written from elementwise ops like {@link Losses}
 * ({@code sd.loss.*} ignores the upstream gradient in DL4J 1.0.0-M2.1, docs/dl4j.md).
 */
public final class KdLosses {
  private KdLosses() {}

  /** Added under the logarithms of {@link #attentionKl}: padded keys have probability exactly 0 in both maps. */
  public static final double KL_EPS = 1e-10;

  /** log softmax(x) over the last axis, as x − logsumexp(x). */
  public static SDVariable logSoftmax(SameDiff sd, SDVariable x, int rank) {
    return x.sub(Losses.logSumExp(sd, x, rank));
  }

  /**
   * KL(softmax(t/T) ‖ softmax(s/T)) over the last axis, one value per row: EfficientVLM's {@code soft_cross_entropy}
   * (KLDivLoss of log_softmax(s/T) against softmax(t/T)) before its {@code batchmean}. No T² factor, as there.
   *
   * @param student,teacher logits [..., C] of rank {@code rank}
   * @return [...] (the last axis reduced)
   */
  public static SDVariable klAtTemperature(SameDiff sd, SDVariable student, SDVariable teacher, double temperature, int rank) {
    SDVariable logQ = logSoftmax(sd, student.div(temperature), rank); // [..., C]
    SDVariable logP = logSoftmax(sd, teacher.div(temperature), rank); // [..., C]
    return sd.math.exp(logP).mul(logP.sub(logQ)).sum(rank - 1); //     [...]
  }

  /**
   * KL(A_T ‖ A_S) = Σ_k A_T·(log A_T − log A_S) over the keys of each query, averaged over heads and queries: one value
   * per batch row. A padded key has A = 0 in both maps and contributes 0; {@link #KL_EPS} keeps its logarithms finite.
   *
   * @param student,teacher post-softmax attention [B, h, Lq, Lk]
   * @return [B]
   */
  public static SDVariable attentionKl(SameDiff sd, SDVariable student, SDVariable teacher) {
    SDVariable logS = sd.math.log(student.add(KL_EPS));
    SDVariable logT = sd.math.log(teacher.add(KL_EPS));
    return teacher.mul(logT.sub(logS)).sum(3).mean(1, 2); // [B, h, Lq] → [B]
  }

  /**
   * Pre-softmax scores [B, h, Lq, Lk] with the entries of padded keys set to 0, as EfficientVLM zeroes those that carry
   * the additive mask ({@code torch.where(att <= -1e2, 0, att)}); here the 0/1 key mask says which.
   *
   * @param keyMask [B, Lk], 1 for real keys
   */
  public static SDVariable maskedScores(SameDiff sd, SDVariable scores, SDVariable keyMask, int keys) {
    return scores.mul(sd.reshape(keyMask, -1, 1, 1, keys));
  }
}
