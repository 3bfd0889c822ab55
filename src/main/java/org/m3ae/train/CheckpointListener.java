package org.m3ae.train;

import java.nio.file.Path;
import java.util.List;
import java.util.function.IntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a checkpoint every {@code every} steps and after the last step. Never on failure: a run that diverges or
 * dies leaves its last good checkpoint as it was, and {@link #last} names it (for the {@link Trainer}'s message).
 */
public final class CheckpointListener implements TrainingListener {
  private static final Logger LOG = LoggerFactory.getLogger(CheckpointListener.class);
  private final Checkpoints checkpoints;
  private final int every;
  private final int total;
  private final IntFunction<Checkpoints.State> state;
  private final Checkpoints.Writer tensors;
  private final List<Path> configs;
  private final List<TrainingListener> notify;
  private Path last;

  /**
   * @param state what the checkpoint records, given the step the run continues at (the one after the step just done)
   * @param configs copied into every checkpoint (the run and model configs)
   * @param notify told of each checkpoint ({@link TrainingListener#onCheckpoint})
   * @param resumedFrom the checkpoint the run resumed from, the last good one until the first is written; or null
   */
  public CheckpointListener(Checkpoints checkpoints, int every, int total, IntFunction<Checkpoints.State> state,
      Checkpoints.Writer tensors, List<Path> configs, List<TrainingListener> notify, Path resumedFrom) {
    this.checkpoints = checkpoints;
    this.every = Math.max(1, every);
    this.total = total;
    this.state = state;
    this.tensors = tensors;
    this.configs = configs;
    this.notify = notify;
    this.last = resumedFrom;
  }

  /** The last complete checkpoint of this run, or null if there is none yet. */
  public String last() {
    return last == null ? null : last.toString();
  }

  @Override
  public void onStep(StepMetrics m) {
    int done = m.step() + 1;
    if (done % every == 0 || done == total) {
      Path dir = checkpoints.save(state.apply(done), tensors, configs);
      LOG.debug("checkpoint {}", dir);
      last = dir;
      for (TrainingListener l : notify) l.onCheckpoint(m.step(), dir);
    }
  }
}
