package org.m3ae.train;

import java.util.List;

/**
 * The optimisation settings pre-training and fine-tuning configs share (SPEC §2.6), with the defaults that apply
 * when a key is left out, M3AE's (m3ae_utils.py {@code set_schedule}, config.py, main.py): AdamW betas 0.9/0.98 and
 * weight decay 0.01 with M3AE's no-decay substrings, 10 % warm-up, no gradient clipping (M3AE's Lightning Trainer sets
 * no {@code gradient_clip_val}), seed 0, dropout on, no accumulation; gradient calls through replayed plans.
 */
public interface TrainDefaults {
  Integer accumulate();

  Double weightDecay();

  List<Double> betas();

  Double warmup();

  Double clipNorm();

  NoDecay noDecay();

  Long seed();

  Boolean dropout();

  Executor executor();

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

  /** Global gradient-norm clip; 0 = off (the default: M3AE does not clip). */
  default double clipNormOr() {
    return clipNorm() == null ? 0.0 : clipNorm();
  }

  default NoDecay noDecayOr() {
    return noDecay() == null ? NoDecay.M3AE : noDecay();
  }

  default long seedOr() {
    return seed() == null ? 0 : seed();
  }

  /** {@code train.executor}: plans (default) or SameDiff's session for every gradient call (docs/performance.md). */
  default Executor executorOr() {
    return executor() == null ? Executor.PLAN : executor();
  }

  default boolean dropoutOr() {
    return dropout() == null || dropout();
  }
}
