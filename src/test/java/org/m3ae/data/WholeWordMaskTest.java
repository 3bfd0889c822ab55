package org.m3ae.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.BitSet;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.m3ae.data.text.SpecialIds;
import org.m3ae.data.text.TextTokenizer;
import org.m3ae.data.text.TokenizerSpec;
import org.m3ae.data.text.TokenizerStyle;
import org.m3ae.masking.MlmMasker;
import org.m3ae.masking.MlmMasking;

/**
 * M3AE's MLM masking, transformers' (4.6) DataCollatorForWholeWordMask, against hand-worked examples: the number of
 * candidate slots (Python's round, half to even, over the padded length), whole words taken together or not at all,
 * [CLS]/[SEP] never candidates, specials and pads dropped after the slots are chosen.
 */
class WholeWordMaskTest {
  // a BERT-style vocabulary: [PAD]=0, [UNK]=100, [CLS]=101, [SEP]=102, [MASK]=103; "##" pieces 2001, 2002
  private static final SpecialIds BERT = new SpecialIds(101, 0, 102, 100, 103);
  private static final int CLS = 101, SEP = 102, PAD = 0;

  private static MlmMasker.WordPieces bertPieces() {
    BitSet cont = new BitSet(), skip = new BitSet();
    cont.set(2001);
    cont.set(2002);
    skip.set(CLS);
    skip.set(SEP);
    return new MlmMasker.WordPieces(cont, skip);
  }

  private static final MlmMasker BERT_WWM = new MlmMasker(MlmMasking.WHOLE_WORD, 0.15, BERT.forMasking(), 30522, bertPieces());
  private static final MlmMasker ROBERTA_WWM =
      new MlmMasker(MlmMasking.WHOLE_WORD, 0.15, SpecialIds.ROBERTA_BASE.forMasking(), 50265, MlmMasker.WordPieces.NONE);

  private static int count(boolean[] b) {
    int n = 0;
    for (boolean x : b) if (x) n++;
    return n;
  }

  @Test
  void candidateSlotsAreRoundOfFifteenPercentOfThePaddedLengthHalfToEven() {
    // Python: round(64·0.15 = 9.6) = 10, round(40·0.15 = 6.0) = 6, round(32·0.15 = 4.8) = 5, round(30·0.15 = 4.5) = 4
    // (half to even), round(10·0.15 = 1.5) = 2, round(50·0.15 = 7.5) = 8, max(1, round(0.45)) = 1, min(512, 750) = 512
    int[][] cases = {{64, 10}, {40, 6}, {32, 5}, {30, 4}, {10, 2}, {50, 8}, {3, 1}, {5000, 512}};
    for (int[] c : cases) assertEquals(c[1], ROBERTA_WWM.slots(c[0]), "L = " + c[0]);

    // RoBERTa: every position is a one-token word, <s> and </s> included (they are not "[CLS]"/"[SEP]"): exactly 10 of 64
    int[] ids = new int[64];
    for (int i = 0; i < 64; i++) ids[i] = 1000 + i;
    ids[0] = 0;
    ids[63] = 2;
    boolean bosEverChosen = false;
    for (int seed = 0; seed < 200; seed++) {
      boolean[] slots = ROBERTA_WWM.wholeWordSlots(ids, new SplittableRandom(seed));
      assertEquals(10, count(slots), "seed " + seed);
      bosEverChosen |= slots[0];
      MlmMasker.Result r = ROBERTA_WWM.apply(ids, new float[64], new SplittableRandom(seed));
      int labelled = 0;
      for (int i = 0; i < 64; i++) if (r.labels()[i] != MlmMasker.IGNORE) labelled++;
      assertEquals(10 - (slots[0] ? 1 : 0) - (slots[63] ? 1 : 0), labelled, "specials dropped, seed " + seed);
    }
    assertTrue(bosEverChosen, "<s> is a candidate slot (then dropped)");
  }

  @Test
  void specialsAndPadsChosenAsSlotsAreDroppedSoShortCaptionsGetFewerMasks() {
    // <s> a b </s> <pad>×4: one slot (round(8·0.15 = 1.2) = 1) among 8 positions; only positions 1 and 2 can be labels
    int[] ids = {0, 11, 12, 2, 1, 1, 1, 1};
    int labelled = 0, padChosen = 0;
    for (int seed = 0; seed < 400; seed++) {
      boolean[] slots = ROBERTA_WWM.wholeWordSlots(ids, new SplittableRandom(seed));
      MlmMasker.Result r = ROBERTA_WWM.apply(ids, new float[] {1, 1, 1, 1, 0, 0, 0, 0}, new SplittableRandom(seed));
      assertEquals(1, count(slots));
      for (int i = 0; i < ids.length; i++) {
        boolean label = r.labels()[i] != MlmMasker.IGNORE;
        assertEquals(slots[i] && (i == 1 || i == 2), label, "seed " + seed + " position " + i);
        if (label) {
          assertEquals(ids[i], r.labels()[i]);
          labelled++;
        } else {
          assertEquals(ids[i], r.ids()[i], "unlabelled positions keep their ids");
        }
      }
      if (slots[4] || slots[5] || slots[6] || slots[7]) padChosen++;
    }
    // hand-worked expectation: 2 of 8 slots give a label (100 of 400), 4 of 8 are pads (200 of 400)
    assertTrue(labelled > 60 && labelled < 140, labelled + " labelled of 400");
    assertTrue(padChosen > 150 && padChosen < 250, padChosen + " pads chosen of 400");
  }

  @Test
  void wholeWordsAreMaskedTogetherAndClsSepAreNeverCandidates() {
    // [CLS] play ##ing ball kick ##ed ##s [SEP] [PAD]×12: words {1,2} {3} {4,5,6}, 12 one-pad words; 3 slots
    int[] ids = new int[20];
    int[] head = {CLS, 1000, 2001, 1001, 1002, 2002, 2001, SEP};
    System.arraycopy(head, 0, ids, 0, head.length);
    boolean sawPair = false, sawTriple = false;
    for (int seed = 0; seed < 300; seed++) {
      boolean[] s = BERT_WWM.wholeWordSlots(ids, new SplittableRandom(seed));
      assertEquals(3, count(s), "seed " + seed); // singletons always fill the budget
      assertFalse(s[0] || s[7], "[CLS]/[SEP] are not candidates");
      assertEquals(s[1], s[2], "play ##ing together");
      assertEquals(s[4], s[5], "kick ##ed ##s together");
      assertEquals(s[4], s[6], "kick ##ed ##s together");
      sawPair |= s[1];
      sawTriple |= s[4];
    }
    assertTrue(sawPair && sawTriple);

    // a word longer than the budget is skipped: [CLS] w ##x ##y [SEP] [PAD]×5 has 2 slots (round(1.5) = 2), the
    // 3-piece word never fits, so the slots always land on pads and no token is ever masked
    int[] shortIds = {CLS, 1000, 2001, 2002, SEP, PAD, PAD, PAD, PAD, PAD};
    for (int seed = 0; seed < 100; seed++) {
      boolean[] s = BERT_WWM.wholeWordSlots(shortIds, new SplittableRandom(seed));
      for (int i = 0; i < 5; i++) assertFalse(s[i], "seed " + seed + " position " + i);
      assertEquals(2, count(s));
      MlmMasker.Result r = BERT_WWM.apply(shortIds, new float[10], new SplittableRandom(seed));
      for (int l : r.labels()) assertEquals(MlmMasker.IGNORE, l);
    }
  }

  @Test
  void replacementsFollowTheCollatorsEightyTenTen() {
    int[] ids = new int[64];
    for (int i = 0; i < 64; i++) ids[i] = 1000 + i;
    int mask = 0, kept = 0, other = 0;
    for (int seed = 0; seed < 400; seed++) {
      MlmMasker.Result r = ROBERTA_WWM.apply(ids, new float[64], new SplittableRandom(seed));
      for (int i = 0; i < 64; i++) {
        if (r.labels()[i] == MlmMasker.IGNORE) continue;
        if (r.ids()[i] == SpecialIds.ROBERTA_BASE.mask()) mask++;
        else if (r.ids()[i] == ids[i]) kept++;
        else other++;
      }
    }
    int n = mask + kept + other; // 4000 labels
    assertEquals(4000, n);
    assertEquals(0.8, mask / (double) n, 0.03);
    assertEquals(0.1, kept / (double) n, 0.02);
    assertEquals(0.1, other / (double) n, 0.02);
  }

  @Test
  void roberta_baseHasSixHashPiecesAndNoClsSepTokens() {
    // roberta-base's vocabulary holds "##", "###", "####", "########", 16 and 32 hashes as tokens: HF's collator joins
    // each to the token before it; "<s>"/"</s>" are not "[CLS]"/"[SEP]", so they stay candidates
    try (TextTokenizer t = TextTokenizer.load(new TokenizerSpec(TokenizerTest.ROBERTA.toString(), TokenizerStyle.ROBERTA, 64))) {
      MlmMasker.WordPieces w = t.wordPieces();
      assertEquals(6, w.continuesWord().cardinality());
      assertTrue(w.continuesWord().get(48342) && w.continuesWord().get(48134), w.continuesWord().toString());
      assertTrue(w.notCandidate().isEmpty(), w.notCandidate().toString());
    }
  }
}
