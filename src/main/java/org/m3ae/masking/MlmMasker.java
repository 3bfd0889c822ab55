package org.m3ae.masking;

import java.util.random.RandomGenerator;
import org.m3ae.data.text.SpecialIds;

/**
 * MLM corruption (SPEC §2.2): each real, non-special token is selected with probability 0.15; a
 * selected token becomes {@code <mask>} (80%), a random ordinary token (10%) or stays (10%). Labels
 * hold the original id at selected positions and {@code -100} elsewhere. With the byte-level BPE
 * every token is its own "word", so M3AE's whole-word masking reduces to this per-token rule.
 */
public final class MlmMasker {

  public static final int IGNORE = -100;

  private final double prob;
  private final SpecialIds specials;
  private final int vocabSize;

  public MlmMasker(double prob, SpecialIds specials, int vocabSize) {
    if (!(prob > 0 && prob < 1)) throw new IllegalArgumentException("mlm probability must be in (0,1), got " + prob);
    this.prob = prob;
    this.specials = specials;
    this.vocabSize = vocabSize;
  }

  /** Corrupted ids and labels for one padded sequence; {@code mask} marks real tokens. */
  public Result apply(int[] ids, float[] mask, RandomGenerator rng) {
    int[] out = ids.clone();
    int[] labels = new int[ids.length];
    java.util.Arrays.fill(labels, IGNORE);
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

  private int randomOrdinary(RandomGenerator rng) {
    // HF draws from the whole vocabulary; specials are excluded here so a random replacement can
    // never read as structure (<s>, </s>, <pad>) to the encoder.
    while (true) {
      int id = rng.nextInt(vocabSize);
      if (!specials.isSpecial(id)) return id;
    }
  }

  public record Result(int[] ids, int[] labels) {}
}
