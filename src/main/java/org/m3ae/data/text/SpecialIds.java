package org.m3ae.data.text;

/** Ids of the special tokens; {@code bos}/{@code eos} are {@code [CLS]}/{@code [SEP]} for BERT. */
public record SpecialIds(int bos, int pad, int eos, int unk, int mask) {

  /** M3AE's RoBERTa ids (SPEC §3.3): {@code <s>}=0, {@code <pad>}=1, {@code </s>}=2, {@code <unk>}=3, {@code <mask>}=50264. */
  public static final SpecialIds ROBERTA_BASE = new SpecialIds(0, 1, 2, 3, 50264);

  public boolean isSpecial(int id) {
    return id == bos || id == pad || id == eos || id == unk || id == mask;
  }

  /** These ids as the MLM masker reads them. */
  public org.m3ae.masking.MlmMasker.Tokens forMasking() {
    return new org.m3ae.masking.MlmMasker.Tokens(mask, pad, this::isSpecial);
  }
}
