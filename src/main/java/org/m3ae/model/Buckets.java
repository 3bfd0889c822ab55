package org.m3ae.model;

/**
 * Sizes rounded up to one of four steps per octave (16, 20, 24, 28, 32, 40, 48, 56, 64, 80, …): a step's batch
 * vocabulary and its selected MLM positions vary from batch to batch, and padding them to these sizes keeps the
 * number of distinct graph shapes a run sees to a handful, so execution plans built per shape are reused
 * ({@code org.m3ae.train.GraphPlan}); the padding costs at most a quarter more rows.
 */
public final class Buckets {
  /** The smallest bucket. */
  public static final int MIN = 16;

  private Buckets() {}

  /** The smallest bucket ≥ {@code n} (n ≥ 0). */
  public static int up(int n) {
    if (n < 0) throw new IllegalArgumentException("negative size " + n);
    if (n <= MIN) return MIN;
    int octave = Integer.highestOneBit(n - 1); // n - 1 so that powers of two stay themselves
    int step = octave / 4;
    return (n + step - 1) / step * step;
  }
}
