package org.m3ae.model;

import java.util.EnumSet;
import java.util.Set;

/**
 * One forward pass to add to a graph. M3AE runs a separate pass per objective (SPEC §2.1: MLM sees masked text and
 * the full image, MIM full text and visible patches, ITM the full pair); passes added to the same {@link M3aeGraph}
 * share every weight.
 *
 * @param name qualifies the pass's inputs and outputs ("" for the unqualified default pass)
 * @param visiblePatches image encoder runs on CLS + visible patches, given by {@link Names#IMAGE_KEEP_IDS}
 * @param heads heads to attach (MIM requires visiblePatches)
 * @param training declare dropout-mask placeholders (see {@link DropoutSites})
 * @param textLen padded text length; 0 takes {@code text.max_text_len}
 * @param typeIds declare a {@link Names#TEXT_TYPE_IDS} input (BERT-style configs)
 * @param sparseText training passes only: look the words up through the batch's own vocabulary ({@link VocabSelect})
 *     instead of a one-hot product with the whole word table
 */
public record PassSpec(String name, boolean visiblePatches, Set<Head> heads, boolean training, int textLen, boolean typeIds,
    boolean sparseText) {
  public enum Head {
    MLM,
    MIM,
    ITM
  }

  public PassSpec {
    heads = heads.isEmpty() ? EnumSet.noneOf(Head.class) : EnumSet.copyOf(heads);
    if (heads.contains(Head.MIM) && !visiblePatches) {
      throw new IllegalArgumentException("pass '" + name + "': the MIM head needs visiblePatches = true");
    }
  }

  /** Inference on full image–text pairs, no heads: the joint feature, hidden states and attention maps. */
  public static PassSpec inference() {
    return new PassSpec("", false, EnumSet.noneOf(Head.class), false, 0, false, false);
  }

  public PassSpec withName(String n) {
    return new PassSpec(n, visiblePatches, heads, training, textLen, typeIds, sparseText);
  }

  public PassSpec withHeads(Head... hs) {
    EnumSet<Head> s = EnumSet.noneOf(Head.class);
    for (Head h : hs) s.add(h);
    return new PassSpec(name, visiblePatches || s.contains(Head.MIM), s, training, textLen, typeIds, sparseText);
  }

  public PassSpec withTraining(boolean t) {
    return new PassSpec(name, visiblePatches, heads, t, textLen, typeIds, sparseText);
  }

  public PassSpec withTextLen(int len) {
    return new PassSpec(name, visiblePatches, heads, training, len, typeIds, sparseText);
  }

  public PassSpec withSparseText(boolean v) {
    return new PassSpec(name, visiblePatches, heads, training, textLen, typeIds, v);
  }

  public PassSpec withVisiblePatches(boolean v) {
    return new PassSpec(name, v, heads, training, textLen, typeIds, sparseText);
  }
}
