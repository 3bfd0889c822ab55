package org.m3ae.masking;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Where the MIM mask's attention comes from (paper §3.3, Table 7; key {@code mask.source}): {@code random} is M3AE's
 * plain MAE mask; {@code student}, {@code teacher} and {@code both} drive the attention-guided progressive mask
 * ({@link AttentionGuidedSampler}) with that model's [CLS]-to-patch attention, or the two averaged.
 */
public enum MaskSource {
  @JsonProperty("random") RANDOM,
  @JsonProperty("student") STUDENT,
  @JsonProperty("teacher") TEACHER,
  @JsonProperty("both") BOTH;

  /** The mask reads the teacher's attention, so a teacher must run on every batch. */
  public boolean needsTeacher() {
    return this == TEACHER || this == BOTH;
  }

  /** The YAML spelling. */
  public String key() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
