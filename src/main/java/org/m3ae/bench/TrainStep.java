package org.m3ae.bench;

/** One timed training step on a fixed batch. Implementations own their graphs and inputs. */
public interface TrainStep extends AutoCloseable {
  /** Runs one full step (forward, backward and — where the implementation has one — the update). */
  void run();

  /** Pairs per step. */
  int batch();

  /** What one step contains, for the report (e.g. "MLM+MIM+ITM forward+backward, no update"). */
  String description();

  /**
   * From the next step on, the time of the step's ops goes to {@code t} (null: untimed).
   *
   * @return false where this step cannot time its ops (then {@code t} stays empty)
   */
  default boolean timeOps(org.m3ae.train.OpTimes t) {
    return false;
  }

  @Override
  default void close() {}
}
