package org.m3ae.masking;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.function.IntPredicate;
import java.util.random.RandomGenerator;

/**
 * MLM corruption (SPEC §2.2). Selected tokens become {@code <mask>} (80 %), a random token (10 %) or stay (10 %);
 * labels hold the original id at selected positions and {@code -100} elsewhere. Which tokens are selected is
 * {@link MlmMasking}: M3AE's whole-word collator (default) or the per-token Bernoulli rule.
 */
public final class MlmMasker {

  public static final int IGNORE = -100;

  /** transformers' {@code _whole_word_mask(max_predictions=512)}. */
  static final int MAX_PREDICTIONS = 512;

  /**
   * What the whole-word collator reads from token strings: ids whose token starts with {@code ##} (continue the word
   * before them) and ids whose token is literally {@code [CLS]} or {@code [SEP]} (never candidates). With RoBERTa's
   * byte-level BPE almost no token starts with {@code ##} and {@code <s>}/{@code </s>} are candidates like any token.
   */
  public record WordPieces(BitSet continuesWord, BitSet notCandidate) {
    public static final WordPieces NONE = new WordPieces(new BitSet(), new BitSet());
  }

  private final MlmMasking mode;
  private final double prob;
  private final Tokens specials;
  private final int vocabSize;
  private final WordPieces words;

  /**
   * What the masker needs of a tokenizer's special tokens: the {@code <mask>} and padding ids, and which ids are
   * special (never selected, never drawn as a random replacement). Kept here rather than taking the tokenizer's own
   * record so that masking depends on nothing in the data pipeline (the pipeline calls the samplers, not the reverse).
   */
  public record Tokens(int mask, int pad, IntPredicate special) {
    boolean isSpecial(int id) {
      return special.test(id);
    }
  }

  /** The per-token rule ({@link MlmMasking#PER_TOKEN}). */
  public MlmMasker(double prob, Tokens specials, int vocabSize) {
    this(MlmMasking.PER_TOKEN, prob, specials, vocabSize, WordPieces.NONE);
  }

  public MlmMasker(MlmMasking mode, double prob, Tokens specials, int vocabSize, WordPieces words) {
    if (!(prob > 0 && prob < 1)) throw new IllegalArgumentException("mlm probability must be in (0,1), got " + prob);
    this.mode = mode;
    this.prob = prob;
    this.specials = specials;
    this.vocabSize = vocabSize;
    this.words = words;
  }

  public MlmMasking mode() {
    return mode;
  }

  /** Corrupted ids and labels for one padded sequence; {@code mask} marks real tokens (per-token mode only). */
  public Result apply(int[] ids, float[] mask, RandomGenerator rng) {
    return mode == MlmMasking.WHOLE_WORD ? wholeWord(ids, rng) : perToken(ids, mask, rng);
  }

  private Result perToken(int[] ids, float[] mask, RandomGenerator rng) {
    int[] out = ids.clone();
    int[] labels = ignored(ids.length);
    for (int i = 0; i < ids.length; i++) {
      if (mask[i] == 0f || specials.isSpecial(ids[i])) continue;
      if (rng.nextDouble() >= prob) continue;
      labels[i] = ids[i];
      double r = rng.nextDouble();
      if (r < 0.8) out[i] = specials.mask();
      else if (r < 0.9) out[i] = randomOrdinary(rng);
    }
    return new Result(out, labels);
  }

  /** Number of candidate slots for a padded length: {@code min(512, max(1, int(round(L · p))))}, round half to even. */
  public int slots(int length) {
    return Math.min(MAX_PREDICTIONS, Math.max(1, (int) Math.rint(length * prob)));
  }

  /**
   * The slots {@code _whole_word_mask} covers, before specials and pads are dropped: candidate words (runs of a piece
   * and its {@code ##} continuations; {@code [CLS]}/{@code [SEP]} skipped) in a random order, each taken whole while
   * the count stays within {@link #slots}, skipped when it would exceed it.
   */
  public boolean[] wholeWordSlots(int[] ids, RandomGenerator rng) {
    List<List<Integer>> cand = new ArrayList<>();
    List<Integer> cur = null;
    for (int i = 0; i < ids.length; i++) {
      if (words.notCandidate().get(ids[i])) continue;
      if (cur != null && words.continuesWord().get(ids[i])) {
        cur.add(i);
      } else {
        cur = new ArrayList<>();
        cur.add(i);
        cand.add(cur);
      }
    }
    // random.shuffle: Fisher–Yates from the end
    for (int i = cand.size() - 1; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      List<Integer> t = cand.get(i);
      cand.set(i, cand.get(j));
      cand.set(j, t);
    }
    int budget = slots(ids.length);
    boolean[] covered = new boolean[ids.length];
    int n = 0;
    for (List<Integer> word : cand) {
      if (n >= budget) break;
      if (n + word.size() > budget) continue; // a whole word or nothing
      for (int i : word) covered[i] = true;
      n += word.size();
    }
    return covered;
  }

  private Result wholeWord(int[] ids, RandomGenerator rng) {
    boolean[] covered = wholeWordSlots(ids, rng);
    int[] out = ids.clone();
    int[] labels = ignored(ids.length);
    for (int i = 0; i < ids.length; i++) {
      // mask_tokens: the special-tokens mask (all special ids) and pads zero the chosen slots
      if (!covered[i] || specials.isSpecial(ids[i]) || ids[i] == specials.pad()) continue;
      labels[i] = ids[i];
      double r = rng.nextDouble();
      if (r < 0.8) out[i] = specials.mask();
      else if (r < 0.9) out[i] = rng.nextInt(vocabSize); // torch.randint(len(tokenizer)): any id, specials included
    }
    return new Result(out, labels);
  }

  private static int[] ignored(int n) {
    int[] labels = new int[n];
    java.util.Arrays.fill(labels, IGNORE);
    return labels;
  }

  private int randomOrdinary(RandomGenerator rng) {
    // per-token mode: specials are excluded so a random replacement can never read as structure (<s>, </s>, <pad>)
    while (true) {
      int id = rng.nextInt(vocabSize);
      if (!specials.isSpecial(id)) return id;
    }
  }

  public record Result(int[] ids, int[] labels) {}
}
