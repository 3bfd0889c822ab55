package org.m3ae.train;

/**
 * The weighted terms of the pre-training objective: M3AE's MLM, MIM and ITM (SPEC §2.1), M3AE-Distill's hidden-state
 * and attention KD (paper §3.2), and MMKD-CLIP's feature distillation and interactive contrastive learning on offline
 * teacher features (SPEC §10). {@link #key} is the run config's key under {@code objectives} and the suffix of the
 * metric {@code loss_<key>}.
 */
public enum LossTerm {
  MLM,
  MIM,
  ITM,
  HID,
  ATTN,
  FD,
  ICL;

  public String key() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  public String metric() {
    return "loss_" + key();
  }
}
