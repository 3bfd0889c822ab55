package org.m3ae.data.text;

/**
 * How specials wrap a sequence and how position ids are counted.
 *
 * <p>ROBERTA: {@code <s> x </s>} then {@code <pad>}, positions {@code cumsum(ids != pad) * (ids != pad) + pad}
 * (from the ids, as HF's RobertaEmbeddings; {@link RobertaPositions})
 * (SPEC §1.2, §11.7). BERT: {@code [CLS] x [SEP]} then {@code [PAD]}, positions {@code 0..L-1}.
 */
public enum TokenizerStyle {
  @com.fasterxml.jackson.annotation.JsonProperty("roberta")
  ROBERTA,
  @com.fasterxml.jackson.annotation.JsonProperty("bert")
  BERT
}
