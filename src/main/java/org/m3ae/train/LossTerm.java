package org.m3ae.train;

/**
 * The weighted terms of the pre-training objective: M3AE's MLM, MIM and ITM (SPEC §2.1), M3AE-Distill's hidden-state
 * and attention KD (paper §3.2), and MMKD-CLIP's feature distillation and interactive contrastive learning on offline
 * teacher features (SPEC §10), and EfficientVLM's logit KD on the MLM and ITM heads (issue 18 §2). {@link #key} is the run config's key under {@code objectives} and the suffix of the
 * metric {@code loss_<key>}.
 */
public enum LossTerm {
  MLM,
  MIM,
  ITM,
  HID,
  ATTN,
  FD,
  ICL,
  /** KL at temperature T between the teacher's and the student's MLM logits on the masked positions. */
  MLM_KD,
  /** KL at temperature T between the teacher's and the student's ITM logits on every ITM pair. */
  ITM_KD;

  /** Terms that compare the student with a teacher: the KD side of {@code kd.alpha}'s (1 − α)·task + α·KD. */
  public boolean distillation() {
    return this != MLM && this != MIM && this != ITM;
  }

  public String key() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  public String metric() {
    return "loss_" + key();
  }
}
