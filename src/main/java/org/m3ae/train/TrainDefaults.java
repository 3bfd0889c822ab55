package org.m3ae.train;

import java.util.List;

/**
 * The optimisation settings pre-training and fine-tuning configs share (SPEC §2.6), with the defaults that apply
 * when a key is left out: AdamW betas 0.9/0.98 and weight decay 0.01, 10 % warm-up, clipping at 1.0, seed 0,
 * dropout on, no accumulation.
 */
public interface TrainDefaults {
  Integer accumulate();

  Double weightDecay();

  List<Double> betas();

  Double warmup();

  Double clipNorm();

  Long seed();

  Boolean dropout();

  default int accumulateOr() {
    return accumulate() == null ? 1 : accumulate();
  }

  default double weightDecayOr() {
    return weightDecay() == null ? 0.01 : weightDecay();
  }

  default double beta1() {
    return betas() == null ? 0.9 : betas().get(0);
  }

  default double beta2() {
    return betas() == null ? 0.98 : betas().get(1);
  }

  default double warmupOr() {
    return warmup() == null ? 0.1 : warmup();
  }

  default double clipNormOr() {
    return clipNorm() == null ? 1.0 : clipNorm();
  }

  default long seedOr() {
    return seed() == null ? 0 : seed();
  }

  default boolean dropoutOr() {
    return dropout() == null || dropout();
  }
}
