package org.m3ae.data.text;

/**
 * One text after tokenisation, padded to the configured length.
 *
 * @param ids token ids, length {@code maxLength}
 * @param mask 1 for real tokens (specials included), 0 for padding
 * @param positionIds RoBERTa or BERT position ids, see {@link TokenizerStyle}
 * @param length number of real tokens (specials included)
 * @param contentTokens tokens of the text before truncation (specials excluded)
 */
public record EncodedText(int[] ids, float[] mask, int[] positionIds, int length, int contentTokens) {

  public boolean truncated() {
    return contentTokens > length - 2;
  }
}
