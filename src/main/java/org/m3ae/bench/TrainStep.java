package org.m3ae.bench;

/** One timed training step on a fixed batch. Implementations own their graphs and inputs. */
public interface TrainStep extends AutoCloseable {
  /** Runs one full step (forward, backward and — where the implementation has one — the update). */
  void run();

  /** Pairs per step. */
  int batch();

  /** What one step contains, for the report (e.g. "MLM+MIM+ITM forward+backward, no update"). */
  String description();

  @Override
  default void close() {}
}
