package org.m3ae.train;

/**
 * Linear warm-up over {@code warmup} steps, then linear decay to 0 at {@code total} (SPEC §2.6: polynomial decay of
 * power 1 to end_lr 0; the paper's 10 % warm-up).
 */
public record LrSchedule(double peak, int warmup, int total) {
  /** Learning rate applied at 0-based step {@code step}. */
  public double at(int step) {
    if (warmup > 0 && step < warmup) return peak * (step + 1) / warmup;
    if (total <= warmup) return peak;
    return peak * Math.max(0.0, (double) (total - step) / (total - warmup));
  }

  public static LrSchedule of(double peak, double warmupFraction, int total) {
    return new LrSchedule(peak, (int) Math.round(warmupFraction * total), total);
  }
}
