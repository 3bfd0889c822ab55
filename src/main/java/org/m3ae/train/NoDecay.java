package org.m3ae.train;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/** Which parameters AdamW leaves undecayed (config key {@code train.no_decay}). */
public enum NoDecay {
  /**
   * M3AE's rule (m3ae_utils.py {@code set_schedule}): no decay for a name that contains any of {@link #M3AE_SUBSTRINGS}
   * as a plain, case-sensitive substring ({@code any(nd in n for nd in no_decay)}). So every bias and the BERT-style
   * {@code LayerNorm.*} and {@code *norm.*} (e.g. {@code mim_head.decoder_norm}) are free, but CLIP's
   * {@code ln_pre}/{@code ln_1}/{@code ln_2}/{@code ln_post} gains, {@code class_embedding}, positional and
   * embedding tables, {@code mask_token} and the heads' {@code vqa_head.1.weight} LayerNorm gain are decayed.
   */
  @JsonProperty("m3ae") M3AE,
  /**
   * This project's earlier rule: no decay for names containing {@code bias}, {@code layernorm}, {@code norm} or
   * {@code ln_} (case-insensitive) nor for any 1-D tensor (every LayerNorm gain, {@code class_embedding}).
   */
  @JsonProperty("norms_and_gains") NORMS_AND_GAINS;

  /** The official list, verbatim. */
  public static final List<String> M3AE_SUBSTRINGS = List.of("bias", "LayerNorm.bias", "LayerNorm.weight", "norm.bias",
      "norm.weight", "norm1.bias", "norm1.weight", "norm2.bias", "norm2.weight");

  public boolean decays(String name, long[] shape) {
    return switch (this) {
      case M3AE -> M3AE_SUBSTRINGS.stream().noneMatch(name::contains);
      case NORMS_AND_GAINS -> {
        String n = name.toLowerCase();
        if (n.contains("bias") || n.contains("layernorm") || n.contains("norm") || n.contains("ln_")) yield false;
        yield shape.length > 1;
      }
    };
  }

  public String id() {
    return name().toLowerCase();
  }
}
