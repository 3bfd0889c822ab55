package org.m3ae.model;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * The parts of an M3AE graph by variable-name prefix (official M3AE names, SPEC §4): what a run's {@code init} loads
 * from a file, e.g. only the text tower from a pretrained BERT-family encoder. Distillation's own projections
 * ({@code distill.*}, {@code fkd/*}) belong to no part: they are the run's, never a file's.
 */
public enum ModelPart {
  @JsonProperty("vision") VISION(List.of("vision_encoder.")),
  @JsonProperty("text") TEXT(List.of("language_encoder.")),
  /** The co-attention layers, the projections into them, the modality embeddings and the poolers. */
  @JsonProperty("fusion") FUSION(List.of("multi_modal_", "modality_type_embeddings.")),
  @JsonProperty("heads") HEADS(List.of("mlm_head.", "mim_head.", "itm_head.")),
  @JsonProperty("all") ALL(List.of());

  private final List<String> prefixes;

  ModelPart(List<String> prefixes) {
    this.prefixes = prefixes;
  }

  /** Whether graph variable {@code name} is in this part ({@link #ALL}: in any of the others). */
  public boolean contains(String name) {
    if (this == ALL) return of(name) != null;
    for (String p : prefixes) if (name.startsWith(p)) return true;
    return false;
  }

  /** The part variable {@code name} is in, or null (distillation projections). */
  public static ModelPart of(String name) {
    for (ModelPart p : values()) if (p != ALL && p.contains(name)) return p;
    return null;
  }

  public String label() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
