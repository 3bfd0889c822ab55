package org.m3ae.data.text;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Recognises roberta-base's vocabulary in a {@code tokenizer.json}, so that ids meant to index M3AE's (that is,
 * roberta-base's) word embeddings are only ever produced by that vocabulary. Two files are the same vocabulary when
 * every token has the same id; a byte-level BPE with other numbering (GPT-2's, whose merges are identical) segments
 * text the same way but indexes the wrong rows, and nothing else would notice.
 */
public final class RobertaBaseVocabulary {
  /** roberta-base's vocabulary size; also the {@code text.vocab_size} of every M3AE-family model config. */
  public static final int SIZE = 50265;

  /**
   * SHA-256 of {@code "<id>\t<token>\n"} over {@code model.vocab} in id order, for roberta-base's tokenizer.json
   * (the Hugging Face hub's {@code roberta-base}; roberta-large and distilroberta share it).
   */
  static final String DIGEST = "8d31975a12784c24b57ae0ec29304aa162ed59042dc4b226ff5647dad311d4e4";

  private RobertaBaseVocabulary() {}

  public static boolean matches(TextTokenizer tok) {
    return DIGEST.equals(tok.vocabularyDigest());
  }

  /** The digest {@link #DIGEST} is one value of: token and id of every {@code model.vocab} entry, in id order. */
  static String digest(JsonNode root) {
    List<Map.Entry<String, JsonNode>> entries = new ArrayList<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.path("model").path("vocab").fields(); it.hasNext(); ) entries.add(it.next());
    entries.sort((a, b) -> Integer.compare(a.getValue().asInt(), b.getValue().asInt()));
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      for (var e : entries) md.update((e.getValue().asInt() + "\t" + e.getKey() + "\n").getBytes(StandardCharsets.UTF_8));
      StringBuilder sb = new StringBuilder();
      for (byte b : md.digest()) sb.append(String.format("%02x", b));
      return sb.toString();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
    }
  }
}
