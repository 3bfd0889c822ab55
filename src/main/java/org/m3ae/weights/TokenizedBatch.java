package org.m3ae.weights;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Texts tokenised with a Hugging Face {@code tokenizer.json} (special tokens added, as the model
 * saw in training) and right-padded to the longest, the way a BERT-family model is fed a batch.
 */
public record TokenizedBatch(long[][] ids, long[][] mask, long[][] typeIds, int length) {

  public static TokenizedBatch of(Path tokenizerJson, List<String> texts, long padId, int maxLen) {
    if (texts.isEmpty()) throw new IllegalArgumentException("no texts");
    try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.newInstance(tokenizerJson)) {
      long[][] rawIds = new long[texts.size()][];
      long[][] rawTypes = new long[texts.size()][];
      int len = 1;
      for (int b = 0; b < texts.size(); b++) {
        Encoding e = tok.encode(texts.get(b));
        int n = 0;
        long[] am = e.getAttentionMask();
        while (n < am.length && am[n] == 1) n++; // a tokenizer.json may itself pad
        n = Math.min(n, maxLen);
        rawIds[b] = java.util.Arrays.copyOf(e.getIds(), n);
        rawTypes[b] = java.util.Arrays.copyOf(e.getTypeIds(), n);
        len = Math.max(len, n);
      }
      long[][] ids = new long[texts.size()][len];
      long[][] mask = new long[texts.size()][len];
      long[][] types = new long[texts.size()][len];
      for (int b = 0; b < texts.size(); b++) {
        java.util.Arrays.fill(ids[b], padId);
        System.arraycopy(rawIds[b], 0, ids[b], 0, rawIds[b].length);
        System.arraycopy(rawTypes[b], 0, types[b], 0, rawTypes[b].length);
        java.util.Arrays.fill(mask[b], 0, rawIds[b].length, 1L);
      }
      return new TokenizedBatch(ids, mask, types, len);
    } catch (IOException e) {
      throw new WeightsException(tokenizerJson + ": cannot load tokenizer: " + e.getMessage(), e);
    }
  }
}
