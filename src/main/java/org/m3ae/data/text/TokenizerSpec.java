package org.m3ae.data.text;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * The {@code tokenizer:} block of a pipeline YAML.
 *
 * @param file a HF {@code tokenizer.json}, or {@code embedded:synthetic} for the generated WordPiece
 *     tokenizer of the synthetic dataset
 * @param style how specials and position ids are laid out
 * @param maxLength padded length; SPEC §3.3: 64 pre-training, 32 VQA, 128 MELINDA, 40 IRTR
 */
public record TokenizerSpec(
    @JsonProperty(value = "file", required = true) String file,
    @JsonProperty(value = "style", required = true) TokenizerStyle style,
    @JsonProperty(value = "max_length", required = true) int maxLength) {

  public static final String EMBEDDED_SYNTHETIC = "embedded:synthetic";

  public TokenizerSpec {
    if (maxLength < 3) throw new IllegalArgumentException("tokenizer.max_length must be >= 3, got " + maxLength);
  }

  public TokenizerSpec withMaxLength(int len) {
    return new TokenizerSpec(file, style, len);
  }
}
