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
 * <p>RoBERTa's own {@code tokenizer.json} is not available here. With {@code gpt2_to_roberta} the
 * GPT-2 merges (identical to RoBERTa's) are used and every GPT-2 id is shifted by 4 so the specials
 * sit where M3AE expects them ({@code <s>}=0, {@code <pad>}=1, {@code </s>}=2, {@code <unk>}=3,
 * {@code <mask>}=50264, vocabulary 50265). The segmentation is RoBERTa's; the numbering of ordinary
 * tokens is not roberta-base's frequency order, so such ids cannot index pretrained RoBERTa
 * embeddings. Thread-safe: the Rust tokenizer is shared across prefetch workers. {@link #close()}
 * waits for calls in flight and later calls fail with a clear error, because a call into a freed
 * native tokenizer crashes the whole JVM (seen in CI: a 561 TB allocation inside {@code pad}).
 */
public final class TextTokenizer implements AutoCloseable {

  private static final int GPT2_TO_ROBERTA_OFFSET = 4;

  private final HuggingFaceTokenizer hf;
  private final TokenizerSpec spec;
  private final SpecialIds specials;
  private final int vocabSize;
  private final int idOffset;
  private final ReadWriteLock lock = new ReentrantReadWriteLock();
  private boolean closed;

  private TextTokenizer(HuggingFaceTokenizer hf, TokenizerSpec spec, SpecialIds specials, int vocabSize, int idOffset) {
    this.hf = hf;
    this.spec = spec;
    this.specials = specials;
    this.vocabSize = vocabSize;
    this.idOffset = idOffset;
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
      if (spec.gpt2ToRoberta()) {
        if (spec.style() != TokenizerStyle.ROBERTA)
          throw new IllegalArgumentException("tokenizer.gpt2_to_roberta needs style: roberta");
        if (maxId + GPT2_TO_ROBERTA_OFFSET >= SpecialIds.ROBERTA_BASE.mask())
          throw new IllegalArgumentException(origin + ": vocabulary too large for the RoBERTa id layout");
        return new TextTokenizer(hf, spec, SpecialIds.ROBERTA_BASE, SpecialIds.ROBERTA_BASE.mask() + 1, GPT2_TO_ROBERTA_OFFSET);
      }
      SpecialIds sp =
          spec.style() == TokenizerStyle.ROBERTA
              ? new SpecialIds(id(root, "<s>", origin), id(root, "<pad>", origin), id(root, "</s>", origin), id(root, "<unk>", origin), id(root, "<mask>", origin))
              : new SpecialIds(id(root, "[CLS]", origin), id(root, "[PAD]", origin), id(root, "[SEP]", origin), id(root, "[UNK]", origin), id(root, "[MASK]", origin));
      return new TextTokenizer(hf, spec, sp, maxId + 1, 0);
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
    for (int i = 0; i < n; i++) ids[i + 1] = (int) raw[i] + idOffset;
    ids[n + 1] = specials.eos();
    int len = n + 2;
    for (int i = 0; i < len; i++) mask[i] = 1f;
    for (int i = 0; i < maxLen; i++) {
      // SPEC §1.2: RoBERTa counts real tokens from padding_idx+1; pads sit at padding_idx.
      pos[i] = spec.style() == TokenizerStyle.ROBERTA ? (i < len ? specials.pad() + i + 1 : specials.pad()) : i;
    }
    return new EncodedText(ids, mask, pos, len, raw.length);
  }

  /** Number of content tokens (no specials, no truncation): what {@code data inspect} reports. */
  public int countTokens(String text) {
    return guarded(() -> hf.encode(text, false, false).getIds().length);
  }

  public String decode(int[] ids) {
    long[] l = new long[ids.length];
    int k = 0;
    for (int id : ids) if (!specials.isSpecial(id)) l[k++] = id - idOffset;
    long[] kept = java.util.Arrays.copyOf(l, k);
    return guarded(() -> hf.decode(kept, true));
  }

  public SpecialIds specials() {
    return specials;
  }

  public int vocabSize() {
    return vocabSize;
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
