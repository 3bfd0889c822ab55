package org.m3ae.masking;

import com.fasterxml.jackson.annotation.JsonProperty;

/** How ITM picks the image a negative pair shows (config key {@code train.itm_negatives}). */
public enum ItmNegatives {
  /** M3AE's (SPEC §2.4): any other image of the dataset, uniformly. */
  @JsonProperty("random") RANDOM,
  /**
   * Of {@code train.itm_candidates} random other images, the one whose caption shares the most words with the pair's
   * own (Jaccard over lower-cased word sets). A random negative usually differs from the caption in what is easy to see
   * (on the synthetic set, modality or region 5 times in 6), so the pooled features that ITM trains, and that the VQA
   * and retrieval heads later read, need to carry nothing else; a near-miss caption makes them carry the details
   * (docs/training.md, "VQA on the synthetic set"). In the spirit of ALBEF's hard negatives, chosen by caption text
   * rather than by a contrastive similarity this model does not have.
   */
  @JsonProperty("hard") HARD;

  public String id() {
    return name().toLowerCase();
  }
}
