package org.m3ae.weights;

import java.util.List;

/**
 * Hugging Face BERT/RoBERTa/MiniLM names ({@code embeddings.word_embeddings.weight}, {@code
 * encoder.layer.N.attention.self.query.weight}, ...) onto the graph's text encoder ({@code
 * language_encoder.} + the same name, SPEC §4). Checkpoints saved from a task model carry a model
 * prefix ({@code bert.}, {@code roberta.}); it is detected from the word-embedding key.
 */
public final class BertKeyMap implements KeyMap {

  public static final String GRAPH_PREFIX = "language_encoder.";
  private static final String PROBE = "embeddings.word_embeddings.weight";
  private static final List<String> PREFIXES =
      List.of("", "bert.", "roberta.", "model.", "language_encoder.");

  private final String sourcePrefix;

  public BertKeyMap(String sourcePrefix) {
    this.sourcePrefix = sourcePrefix;
  }

  /** Picks the prefix under which {@code src} holds the word embeddings. */
  public static BertKeyMap detect(TensorSource src) {
    for (String p : PREFIXES) {
      if (src.contains(p + PROBE)) return new BertKeyMap(p);
    }
    throw new WeightsException(src.origin() + ": no BERT-family text encoder found (no key '"
        + PROBE + "' under any of the prefixes " + PREFIXES + ")");
  }

  public String sourcePrefix() {
    return sourcePrefix;
  }

  @Override
  public Rule rule(String target, long[] shape) {
    if (!target.startsWith(GRAPH_PREFIX)) return null;
    return LinearRules.rule(target, shape,
        t -> sourcePrefix + t.substring(GRAPH_PREFIX.length()));
  }

  @Override
  public String whyUnused(String key) {
    if (!key.startsWith(sourcePrefix)) return "outside the text encoder";
    String k = key.substring(sourcePrefix.length());
    if (k.startsWith("pooler.")) return "pooler, not part of the text encoder's output";
    if (k.equals("embeddings.position_ids")) return "buffer; position ids are computed in the graph";
    return null;
  }
}
