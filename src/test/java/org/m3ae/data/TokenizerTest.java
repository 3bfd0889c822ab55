package org.m3ae.data;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.m3ae.data.synth.SyntheticGenerator;
import org.m3ae.data.synth.SyntheticScene;
import org.m3ae.data.synth.SyntheticTokenizerJson;
import org.m3ae.data.text.EncodedText;
import org.m3ae.data.text.RobertaBaseVocabulary;
import org.m3ae.data.text.SpecialIds;
import org.m3ae.data.text.TextTokenizer;
import org.m3ae.data.text.TokenizerSpec;
import org.m3ae.data.text.TokenizerStyle;

/** SPEC §3.3 tokenisation: ids against independent references, specials, padding, positions. */
class TokenizerTest {

  static final Path ROBERTA = Fixtures.SHARED.resolve("tokenizers/roberta-base.tokenizer.json");

  static final List<String> TEXTS =
      List.of("CT of the chest reveals an obstructing mass and resultant LUL collapse.", "Hello  world!\n  It's 3.5cm (approx.) — naïve café",
          "T2-weighted MRI: 12x15 mm lesion, R>L; ?", " leading space and trailing   ", "don't can't we'll I'd they've", "");

  /** GPT-2's byte-level BPE (RoBERTa's too) written from its definition: byte-to-unicode map, regex split, rank merges. */
  static final class Gpt2Reference {
    final Map<String, Integer> vocab = new HashMap<>();
    final Map<String, Integer> ranks = new HashMap<>();
    final char[] byteChar = new char[256];
    static final Pattern PAT = Pattern.compile("'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+");

    Gpt2Reference(Path json) throws Exception {
      JsonNode root = new ObjectMapper().readTree(json.toFile());
      root.get("model").get("vocab").fields().forEachRemaining(e -> vocab.put(e.getKey(), e.getValue().asInt()));
      int r = 0;
      for (JsonNode m : root.get("model").get("merges")) ranks.put(m.isArray() ? m.get(0).asText() + " " + m.get(1).asText() : m.asText(), r++);
      List<Integer> bs = new ArrayList<>();
      for (int b = '!'; b <= '~'; b++) bs.add(b);
      for (int b = 0xA1; b <= 0xAC; b++) bs.add(b);
      for (int b = 0xAE; b <= 0xFF; b++) bs.add(b);
      int n = 0;
      for (int b = 0; b < 256; b++) byteChar[b] = bs.contains(b) ? (char) b : (char) (256 + n++);
    }

    List<Integer> encode(String text) {
      List<Integer> ids = new ArrayList<>();
      Matcher m = PAT.matcher(text);
      while (m.find()) {
        StringBuilder sb = new StringBuilder();
        for (byte b : m.group().getBytes(StandardCharsets.UTF_8)) sb.append(byteChar[b & 0xff]);
        List<String> word = new ArrayList<>();
        for (char c : sb.toString().toCharArray()) word.add(String.valueOf(c));
        while (word.size() > 1) {
          int best = -1, bestRank = Integer.MAX_VALUE;
          for (int i = 0; i + 1 < word.size(); i++) {
            Integer rk = ranks.get(word.get(i) + " " + word.get(i + 1));
            if (rk != null && rk < bestRank) {
              bestRank = rk;
              best = i;
            }
          }
          if (best < 0) break;
          String a = word.get(best), b = word.get(best + 1);
          List<String> merged = new ArrayList<>();
          for (int i = 0; i < word.size(); i++) {
            if (i + 1 < word.size() && word.get(i).equals(a) && word.get(i + 1).equals(b)) {
              merged.add(a + b);
              i++;
            } else merged.add(word.get(i));
          }
          word = merged;
        }
        for (String t : word) ids.add(vocab.get(t));
      }
      return ids;
    }
  }

  @Test
  void robertaBaseGivesItsKnownIds() {
    Fixtures.requireShared("tokenizers/" + ROBERTA.getFileName());
    try (TextTokenizer t = TextTokenizer.load(new TokenizerSpec(ROBERTA.toString(), TokenizerStyle.ROBERTA, 8))) {
      assertEquals(SpecialIds.ROBERTA_BASE, t.specials());
      assertEquals(50265, t.vocabSize());
      assertTrue(RobertaBaseVocabulary.matches(t));
      // roberta-base's own ids (transformers' RobertaTokenizer gives the same)
      assertArrayEquals(new int[] {0, 31414, 232, 328, 2, 1, 1, 1}, t.encode("Hello world!").ids());
      assertArrayEquals(new int[] {0, 31414, 232, 2, 1, 1, 1, 1}, t.encode("Hello world").ids());
      assertEquals("Hello world!", t.decode(t.encode("Hello world!").ids()));
    }
  }

  @Test
  void gpt2VocabularyIsNotRobertaBase() {
    Path gpt2 = Fixtures.requireShared("tokenizers/gpt2-byte-level-bpe.tokenizer.json");
    // the same merges with GPT-2's numbering: it has no <s>, and a WordPiece file is not roberta-base either
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TextTokenizer.load(new TokenizerSpec(gpt2.toString(), TokenizerStyle.ROBERTA, 8)));
    assertTrue(e.getMessage().contains(gpt2.toString()) && e.getMessage().contains("<s>"), e.getMessage());
    try (TextTokenizer t = TextTokenizer.load(new TokenizerSpec(TokenizerSpec.EMBEDDED_SYNTHETIC, TokenizerStyle.BERT, 8))) {
      assertFalse(RobertaBaseVocabulary.matches(t));
    }
  }

  @Test
  void byteLevelBpeMatchesIndependentReferenceOnRealCaptions() throws Exception {
    Fixtures.requireShared("tokenizers/" + ROBERTA.getFileName());
    Gpt2Reference ref = new Gpt2Reference(ROBERTA);
    List<String> texts = new ArrayList<>(TEXTS);
    // real captions are the point of this test: missing data fails with the path, it is not skipped
    Path medpix = Fixtures.requireShared("medpix/descriptions_train.jsonl");
    ObjectMapper om = new ObjectMapper();
    for (String line : Files.readAllLines(medpix).subList(0, 300)) texts.add(om.readTree(line).at("/Description/Caption").asText());
    int checked = 0;
    try (TextTokenizer t = TextTokenizer.load(new TokenizerSpec(ROBERTA.toString(), TokenizerStyle.ROBERTA, 512))) {
      for (String s : texts) {
        List<Integer> expect = ref.encode(s);
        EncodedText e = t.encode(s);
        assertEquals(expect.size() + 2, e.length(), s);
        assertEquals(0, e.ids()[0]);
        assertEquals(2, e.ids()[e.length() - 1]);
        for (int i = 0; i < expect.size(); i++) assertEquals(expect.get(i), e.ids()[i + 1], "token " + i + " of: " + s);
        checked++;
      }
    }
    assertEquals(TEXTS.size() + 300, checked, "every text, the 300 MedPix captions included");
  }

  @Test
  void robertaPaddingTruncationAndPositionIds() throws Exception {
    Fixtures.requireShared("tokenizers/" + ROBERTA.getFileName());
    try (TextTokenizer t = TextTokenizer.load(new TokenizerSpec(ROBERTA.toString(), TokenizerStyle.ROBERTA, 12))) {
      EncodedText s = t.encode("a short one");
      EncodedText l = t.encode("CT of the chest reveals an obstructing mass and resultant LUL collapse with effusion.");
      for (EncodedText e : List.of(s, l)) {
        // SPEC §1.2: position = cumsum(ids != pad) * (ids != pad) + padding_idx, computed here from the ids.
        int cum = 0;
        for (int i = 0; i < 12; i++) {
          int notPad = e.ids()[i] != 1 ? 1 : 0;
          cum += notPad;
          assertEquals(cum * notPad + 1, e.positionIds()[i]);
          assertEquals(notPad, (int) e.mask()[i]);
        }
      }
      assertEquals(5, s.length());
      assertEquals(1, s.ids()[5]);
      assertEquals(12, l.length());
      assertTrue(l.truncated());
      assertEquals(2, l.ids()[11]);
      try (TextTokenizer t64 = TextTokenizer.load(new TokenizerSpec(ROBERTA.toString(), TokenizerStyle.ROBERTA, 64))) {
        EncodedText full = t64.encode("CT of the chest reveals an obstructing mass and resultant LUL collapse with effusion.");
        assertArrayEquals(java.util.Arrays.copyOfRange(full.ids(), 0, 11), java.util.Arrays.copyOfRange(l.ids(), 0, 11));
      }
      // A literal "<pad>" in the text is the pad id inside the attention mask: HF gives it position 1 and counts on
      // past it, and so does the tokenizer (by hand: <s> Hello <pad> world </s> -> 2 3 1 4 5).
      EncodedText p = t.encode("Hello<pad> world");
      assertArrayEquals(new int[] {0, 31414, 1, 232, 2, 1}, java.util.Arrays.copyOf(p.ids(), 6));
      assertArrayEquals(new float[] {1, 1, 1, 1, 1, 0}, java.util.Arrays.copyOf(p.mask(), 6));
      assertArrayEquals(new int[] {2, 3, 1, 4, 5, 1}, java.util.Arrays.copyOf(p.positionIds(), 6));
    }
  }

  static Path miniLmTokenizer(Path dir) throws Exception {
    try (InputStream in = TokenizerTest.class.getResourceAsStream("/all-minilm-l6-v2-tokenizer.json")) {
      assertNotNull(in, "the MiniLM jar (test scope) carries all-minilm-l6-v2-tokenizer.json");
      Path f = dir.resolve("minilm.json");
      Files.copy(in, f);
      return f;
    }
  }

  @Test
  void wordPieceMatchesDjlsOwnPostProcessorPaddingAndTruncation(@TempDir Path dir) throws Exception {
    Path f = miniLmTokenizer(dir);
    int len = 16;
    try (TextTokenizer t = TextTokenizer.load(new TokenizerSpec(f.toString(), TokenizerStyle.BERT, len));
        HuggingFaceTokenizer ref = HuggingFaceTokenizer.newInstance(f, Map.of("maxLength", "16", "truncation", "true", "padding", "max_length"))) {
      assertEquals(new SpecialIds(101, 0, 102, 100, 103), t.specials());
      assertEquals(30522, t.vocabSize());
      List<String> texts = new ArrayList<>(TEXTS);
      texts.add("Contrast enhanced chest CT shows diffuse increased interstitial markings involving the right middle and lower lobes.");
      Path medpix = Fixtures.requireShared("medpix/descriptions_dev.jsonl");
      ObjectMapper om = new ObjectMapper();
      for (String line : Files.readAllLines(medpix)) texts.add(om.readTree(line).at("/Description/Caption").asText());
      for (String s : texts) {
        Encoding r = ref.encode(s, true, false);
        EncodedText e = t.encode(s);
        for (int i = 0; i < len; i++) {
          assertEquals(r.getIds()[i], e.ids()[i], "id " + i + " of: " + s);
          assertEquals(r.getAttentionMask()[i], (long) e.mask()[i], "mask " + i + " of: " + s);
          assertEquals(i, e.positionIds()[i]);
        }
      }
    }
  }

  @Test
  void embeddedSyntheticTokenizerCoversEveryGeneratedTextWithoutUnknowns() {
    Map<String, Integer> vocab = SyntheticTokenizerJson.vocabulary();
    try (TextTokenizer t = TextTokenizer.load(new TokenizerSpec(TokenizerSpec.EMBEDDED_SYNTHETIC, TokenizerStyle.BERT, 40))) {
      assertEquals(new SpecialIds(2, 0, 3, 1, 4), t.specials());
      for (int i = 0; i < 60; i++) {
        SyntheticScene s = SyntheticGenerator.scene(7, i);
        String cap = s.caption();
        EncodedText e = t.encode(cap);
        // Independent word-level expectation: each word and each punctuation mark is one token.
        List<Integer> expect = new ArrayList<>();
        for (String w : cap.toLowerCase().replace(".", " .").split(" ")) expect.add(vocab.get(w));
        assertEquals(expect.size() + 2, e.length(), cap);
        for (int k = 0; k < expect.size(); k++) assertEquals(expect.get(k), e.ids()[k + 1], cap);
        assertEquals(cap.toLowerCase().replace(".", " .").replace(" .", "."), t.decode(e.ids()).replace(" .", "."));
      }
      // Unseen words fall back to characters, not [UNK].
      EncodedText x = t.encode("Pneumothorax 42");
      for (int k = 1; k < x.length() - 1; k++) assertNotEquals(1, x.ids()[k]);
    }
  }

  @Test
  void closeWaitsForCallsInFlightAndLaterCallsFailNamingTheTokenizer() throws Exception {
    TextTokenizer t = TextTokenizer.load(new TokenizerSpec(TokenizerSpec.EMBEDDED_SYNTHETIC, TokenizerStyle.BERT, 40));
    String cap = SyntheticGenerator.scene(7, 0).caption();
    int[] expect = t.encode(cap).ids();
    // Workers encode in a loop while the owner closes: every call either completes with the right
    // ids or is refused; none may reach the freed native tokenizer (which would kill the JVM).
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
    java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(2);
    List<java.util.concurrent.Future<Integer>> fs = new ArrayList<>();
    for (int w = 0; w < 2; w++)
      fs.add(pool.submit(() -> {
        int ok = 0;
        while (true) {
          try {
            assertArrayEquals(expect, t.encode(cap).ids());
            if (ok++ == 0) started.countDown();
          } catch (IllegalStateException closed) {
            return ok;
          }
        }
      }));
    started.await(); // both workers are in their loops
    t.close();
    for (var f : fs) assertTrue(f.get(30, java.util.concurrent.TimeUnit.SECONDS) > 0);
    pool.shutdown();
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> t.encode(cap));
    assertTrue(e.getMessage().contains("embedded:synthetic") && e.getMessage().contains("closed"), e.getMessage());
    assertThrows(IllegalStateException.class, () -> t.decode(expect));
    t.close(); // idempotent
  }
}
