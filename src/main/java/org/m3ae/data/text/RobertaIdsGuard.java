package org.m3ae.data.text;

import java.nio.file.Path;
import java.util.List;
import org.m3ae.model.ModelConfig;
import org.m3ae.weights.TensorSource;
import org.m3ae.weights.TensorSources;
import org.m3ae.weights.WeightsException;

/**
 * Token ids index embedding rows by number, so a tokenizer with the right size but another numbering (GPT-2's BPE,
 * whose merges RoBERTa shares) trains and evaluates without any error and silently reads the wrong rows. This guard
 * makes the pairing explicit wherever a tokenizer meets a model: roberta-base's vocabulary needs a 50265-row text
 * config, and weights whose text embeddings have roberta-base's 50265 rows (the official M3AE checkpoint, a run or
 * import derived from it, a RoBERTa checkpoint) need roberta-base's vocabulary.
 */
public final class RobertaIdsGuard {
  /** Where a checkpoint keeps its word embeddings: graph layout and M3AE's names, then HF's with model prefixes. */
  static final List<String> WORD_EMBEDDING_KEYS = List.of(
      "language_encoder.embeddings.word_embeddings.weight", "roberta.embeddings.word_embeddings.weight",
      "embeddings.word_embeddings.weight", "bert.embeddings.word_embeddings.weight", "model.embeddings.word_embeddings.weight");

  static final String FIX = "use roberta-base's own tokenizer.json (tokenizer.file, e.g. ../shared/data/tokenizers/roberta-base.tokenizer.json)";

  private RobertaIdsGuard() {}

  /** roberta-base's vocabulary must feed a model whose text config has exactly its 50265 rows. */
  public static void checkModel(TextTokenizer tok, ModelConfig.Text text, String pipeline, String modelFile) {
    if (RobertaBaseVocabulary.matches(tok) && text.vocabSize() != RobertaBaseVocabulary.SIZE) {
      throw new IllegalArgumentException(pipeline + ": tokenizer " + tok.spec().file() + " is roberta-base's vocabulary ("
          + RobertaBaseVocabulary.SIZE + " ids) but " + modelFile + " text.vocab_size is " + text.vocabSize()
          + ": set text.vocab_size: " + RobertaBaseVocabulary.SIZE);
    }
  }

  /** Opens {@code weights} only to look at its word-embedding shape; see {@link #checkWeights(TensorSource, TextTokenizer)}. */
  public static void checkWeights(Path weights, TextTokenizer tok) {
    try (TensorSource src = TensorSources.open(weights)) {
      checkWeights(src, tok);
    }
  }

  /** RoBERTa-indexed weights (a 50265-row word-embedding table) with a tokenizer that is not roberta-base's: an error. */
  public static void checkWeights(TensorSource src, TextTokenizer tok) {
    for (String key : WORD_EMBEDDING_KEYS) {
      if (!src.contains(key)) continue;
      long rows = src.shape(key)[0];
      if (rows == RobertaBaseVocabulary.SIZE && !RobertaBaseVocabulary.matches(tok)) {
        throw new WeightsException(src.origin() + ": '" + key + "' has roberta-base's " + rows + " rows (RoBERTa token ids, "
            + "as M3AE's text encoder), but tokenizer " + tok.spec().file() + " is not roberta-base's vocabulary, so its ids "
            + "would select the wrong rows: " + FIX);
      }
      return;
    }
  }
}
