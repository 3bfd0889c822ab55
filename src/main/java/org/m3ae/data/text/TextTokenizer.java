package org.m3ae.data.text;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;
import org.m3ae.data.synth.SyntheticTokenizerJson;

/**
 * Exact tokenisation of HF {@code tokenizer.json} files (byte-level BPE and WordPiece) through DJL's
 * Rust tokenizers, with the specials, truncation, padding and position ids laid out here so that
 * both families share one code path (SPEC §3.3: padding to max_length, truncation=True).
 *
 * <p>Ids are the file's own, never renumbered: M3AE's text encoder needs roberta-base's {@code tokenizer.json}
 * ({@link RobertaBaseVocabulary} recognises it; loaders refuse RoBERTa-indexed weights with any other vocabulary).
 * Thread-safe: the Rust tokenizer is shared across prefetch workers. {@link #close()}
 * waits for calls in flight and later calls fail with a clear error, because a call into a freed
 * native tokenizer crashes the whole JVM (seen in CI: a 561 TB allocation inside {@code pad}).
 */
public final class TextTokenizer implements AutoCloseable {

  private final HuggingFaceTokenizer hf;
  private final TokenizerSpec spec;
  private final SpecialIds specials;
  private final int vocabSize;
  private final String vocabularyDigest;
  private org.m3ae.masking.MlmMasker.WordPieces wordPieces = org.m3ae.masking.MlmMasker.WordPieces.NONE;
  private final ReadWriteLock lock = new ReentrantReadWriteLock();
  private boolean closed;

  private TextTokenizer(HuggingFaceTokenizer hf, TokenizerSpec spec, SpecialIds specials, int vocabSize, String vocabularyDigest) {
    this.hf = hf;
    this.spec = spec;
    this.specials = specials;
    this.vocabSize = vocabSize;
    this.vocabularyDigest = vocabularyDigest;
  }

  /** Loads the tokenizer a pipeline names; relative files resolve against the working directory. */
  public static TextTokenizer load(TokenizerSpec spec) {
    byte[] json;
    String origin;
    try {
      if (TokenizerSpec.EMBEDDED_SYNTHETIC.equals(spec.file())) {
        json = SyntheticTokenizerJson.build().getBytes(StandardCharsets.UTF_8);
        origin = spec.file();
      } else {
        Path p = Path.of(spec.file());
        if (!Files.isRegularFile(p)) throw new IllegalArgumentException("tokenizer.file: no such file " + p.toAbsolutePath());
        json = Files.readAllBytes(p);
        origin = p.toString();
      }
      JsonNode root = new ObjectMapper().readTree(json);
      // The file's own truncation/padding (MiniLM's says 128) must not apply: this class pads.
      HuggingFaceTokenizer hf =
          HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(json), Map.of("truncation", "false", "padding", "false"));
      int maxId = maxId(root);
      SpecialIds sp =
          spec.style() == TokenizerStyle.ROBERTA
              ? new SpecialIds(id(root, "<s>", origin), id(root, "<pad>", origin), id(root, "</s>", origin), id(root, "<unk>", origin), id(root, "<mask>", origin))
              : new SpecialIds(id(root, "[CLS]", origin), id(root, "[PAD]", origin), id(root, "[SEP]", origin), id(root, "[UNK]", origin), id(root, "[MASK]", origin));
      TextTokenizer t = new TextTokenizer(hf, spec, sp, maxId + 1, RobertaBaseVocabulary.digest(root));
      t.wordPieces = wordPieces(root);
      return t;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot load tokenizer " + spec.file() + ": " + e.getMessage(), e);
    }
  }

  /** Tokenises, truncates to {@code maxLength - 2} content tokens, wraps in specials and pads. */
  public EncodedText encode(String text) {
    long[] raw = guarded(() -> hf.encode(text, false, false).getIds());
    int maxLen = spec.maxLength();
    int n = Math.min(raw.length, maxLen - 2);
    int[] ids = new int[maxLen];
    float[] mask = new float[maxLen];
    int[] pos = new int[maxLen];
    java.util.Arrays.fill(ids, specials.pad());
    ids[0] = specials.bos();
    for (int i = 0; i < n; i++) ids[i + 1] = (int) raw[i];
    ids[n + 1] = specials.eos();
    int len = n + 2;
    for (int i = 0; i < len; i++) mask[i] = 1f;
    // RoBERTa's positions follow the ids, as in HF (a literal "<pad>" in the text is a pad id inside the mask).
    if (spec.style() == TokenizerStyle.ROBERTA) pos = RobertaPositions.of(ids, specials.pad());
    else for (int i = 0; i < maxLen; i++) pos[i] = i;
    return new EncodedText(ids, mask, pos, len, raw.length);
  }

  /** Number of content tokens (no specials, no truncation): what {@code data inspect} reports. */
  public int countTokens(String text) {
    return guarded(() -> hf.encode(text, false, false).getIds().length);
  }

  public String decode(int[] ids) {
    long[] l = new long[ids.length];
    int k = 0;
    for (int id : ids) if (!specials.isSpecial(id)) l[k++] = id;
    long[] kept = java.util.Arrays.copyOf(l, k);
    return guarded(() -> hf.decode(kept, true));
  }

  public SpecialIds specials() {
    return specials;
  }

  public int vocabSize() {
    return vocabSize;
  }

  /** SHA-256 over the file's {@code model.vocab} in id order ({@link RobertaBaseVocabulary#digest}). */
  public String vocabularyDigest() {
    return vocabularyDigest;
  }

  public int maxLength() {
    return spec.maxLength();
  }

  public TokenizerStyle style() {
    return spec.style();
  }

  public TokenizerSpec spec() {
    return spec;
  }

  /** Frees the native tokenizer once no call is in flight; idempotent. */
  @Override
  public void close() {
    lock.writeLock().lock();
    try {
      if (!closed) hf.close();
      closed = true;
    } finally {
      lock.writeLock().unlock();
    }
  }

  private <T> T guarded(Supplier<T> call) {
    lock.readLock().lock();
    try {
      if (closed) throw new IllegalStateException("tokenizer " + spec.file() + " is closed");
      return call.get();
    } finally {
      lock.readLock().unlock();
    }
  }

  /** What the whole-word MLM collator reads from token strings (MlmMasker.WordPieces). */
  public org.m3ae.masking.MlmMasker.WordPieces wordPieces() {
    return wordPieces;
  }

  private static org.m3ae.masking.MlmMasker.WordPieces wordPieces(JsonNode root) {
    java.util.BitSet cont = new java.util.BitSet(), skip = new java.util.BitSet();
    java.util.function.BiConsumer<String, Integer> see = (tok, id) -> {
      if (tok.startsWith("##")) cont.set(id);
      if (tok.equals("[CLS]") || tok.equals("[SEP]")) skip.set(id);
    };
    for (Iterator<Map.Entry<String, JsonNode>> it = root.path("model").path("vocab").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      see.accept(e.getKey(), e.getValue().asInt());
    }
    for (JsonNode t : root.path("added_tokens")) see.accept(t.path("content").asText(), t.path("id").asInt());
    return new org.m3ae.masking.MlmMasker.WordPieces(cont, skip);
  }

  private static int maxId(JsonNode root) {
    int max = -1;
    for (Iterator<JsonNode> it = root.path("model").path("vocab").elements(); it.hasNext(); ) max = Math.max(max, it.next().asInt());
    for (JsonNode t : root.path("added_tokens")) max = Math.max(max, t.path("id").asInt());
    return max;
  }

  private static int id(JsonNode root, String token, String origin) {
    for (JsonNode t : root.path("added_tokens")) if (token.equals(t.path("content").asText())) return t.path("id").asInt();
    JsonNode v = root.path("model").path("vocab").get(token);
    if (v == null) throw new IllegalArgumentException(origin + ": special token " + token + " not in the vocabulary (wrong tokenizer.style?)");
    return v.asInt();
  }
}
