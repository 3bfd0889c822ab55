package org.m3ae.ui;

import java.nio.file.Path;
import org.m3ae.train.StepMetrics;
import org.m3ae.train.TrainingListener;

/**
 * Where a live run stands (running, finished, failed; planned steps; last checkpoint), as told by the training loop's
 * hooks. It deliberately ignores the metric values in {@link StepMetrics}: the UI charts those from
 * {@code metrics.jsonl} only, so there is exactly one source for numbers. A run reopened from its files has no
 * lifecycle; the page then says how long ago the file last grew instead.
 */
final class RunLifecycle implements TrainingListener {
  enum State { STARTING, RUNNING, FINISHED, FAILED }

  private volatile State state = State.STARTING;
  private volatile int startStep = -1;
  private volatile int totalSteps = -1;
  private volatile int lastStep = -1;
  private volatile int checkpointStep = -1;
  private volatile Path checkpointDir;
  private volatile String failure;

  @Override
  public void onStart(Path runDir, int startStep, int totalSteps) {
    this.startStep = startStep;
    this.totalSteps = totalSteps;
    state = State.RUNNING;
  }

  @Override
  public void onStep(StepMetrics m) {
    lastStep = m.step();
  }

  @Override
  public void onCheckpoint(int step, Path dir) {
    checkpointStep = step;
    checkpointDir = dir;
  }

  @Override
  public void onEnd(int lastStep, Throwable failure) {
    this.lastStep = lastStep;
    if (failure != null) {
      this.failure = failure.getClass().getSimpleName() + (failure.getMessage() == null ? "" : ": " + failure.getMessage());
      state = State.FAILED;
    } else {
      state = State.FINISHED;
    }
  }

  State state() { return state; }
  int startStep() { return startStep; }
  int totalSteps() { return totalSteps; }
  int lastStep() { return lastStep; }
  int checkpointStep() { return checkpointStep; }
  Path checkpointDir() { return checkpointDir; }
  String failure() { return failure; }
}
