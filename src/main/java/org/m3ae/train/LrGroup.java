package org.m3ae.train;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Locale;

/**
 * M3AE's learning-rate groups (SPEC §2.6; m3ae_utils.py {@code set_schedule}): each trains at the schedule's rate
 * times its multiplier ({@code train.lr_multipliers}). {@link #key} is the YAML key.
 */
public enum LrGroup {
  /** Everything not below (both towers too, unless {@code vision} or {@code text} is given). */
  @JsonProperty("backbone") BACKBONE,
  /**
   * The vision tower ({@code vision_encoder.*}); its multiplier defaults to {@code backbone}'s. A separate rate for a
   * tower matters when one tower starts from pretrained weights and the other from scratch (docs/training.md).
   */
  @JsonProperty("vision") VISION,
  /** The text tower ({@code language_encoder.*}); its multiplier defaults to {@code backbone}'s. */
  @JsonProperty("text") TEXT,
  /** The co-attention fusion layers and poolers ({@code multi_modal*}; M3AE's {@code lr_multiplier_multi_modal}). */
  @JsonProperty("fusion") FUSION,
  /** Task and pre-training heads and the KD projections (M3AE's {@code lr_multiplier_head}). */
  @JsonProperty("heads") HEADS;

  /**
   * The group of a graph variable: heads ({@code *_head}, {@code distill.*}), fusion ({@code multi_modal*}), the
   * towers ({@code vision_encoder.*}, {@code language_encoder.*}), else backbone.
   */
  public static LrGroup of(String variable) {
    String n = variable;
    if (n.startsWith("mlm_head") || n.startsWith("mim_head") || n.startsWith("itm_head") || n.startsWith("vqa_head")
        || n.startsWith("cls_head") || n.startsWith("irtr_head") || n.startsWith("distill.")) {
      return HEADS;
    }
    if (n.contains("multi_modal")) return FUSION;
    if (n.startsWith("vision_encoder.")) return VISION;
    if (n.startsWith("language_encoder.")) return TEXT;
    return BACKBONE;
  }

  /** A tower's group, whose multiplier falls back to {@link #BACKBONE}'s when its key is left out. */
  public boolean tower() {
    return this == VISION || this == TEXT;
  }

  public String key() {
    return name().toLowerCase(Locale.ROOT);
  }
}
