package org.m3ae.masking;

import com.fasterxml.jackson.annotation.JsonProperty;

/** How MLM picks the tokens to corrupt (config key {@code train.mlm_masking}). */
public enum MlmMasking {
  /**
   * M3AE's: {@code whole_word_masking=True} makes base_datamodule.py use transformers' (4.6)
   * {@code DataCollatorForWholeWordMask}: exactly round(0.15·L) candidate slots over all L positions of the padded
   * sequence (Python's round, half to even), whole words (a piece whose token starts with {@code ##} joins the one
   * before) taken together or skipped when they would exceed the budget, {@code [CLS]}/{@code [SEP]} tokens not
   * candidates; specials and pads chosen as slots are then dropped, so a short caption gets fewer than 15 % of its
   * tokens masked. Random replacements are drawn from the whole vocabulary, specials included.
   */
  @JsonProperty("whole_word") WHOLE_WORD,
  /**
   * This project's earlier rule: every real, non-special token independently with probability 0.15; random
   * replacements never special tokens.
   */
  @JsonProperty("per_token") PER_TOKEN;

  public String id() {
    return name().toLowerCase();
  }
}
