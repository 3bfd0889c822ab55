package org.m3ae.train;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a checkpoint every {@code every} steps and after the last step. Never on failure: a run that diverges or
 * dies leaves its last good checkpoint as it was.
 */
public final class CheckpointListener implements TrainingListener {
  private static final Logger LOG = LoggerFactory.getLogger(CheckpointListener.class);
  private final Checkpoints checkpoints;
  private final int every;
  private final int total;
  private final Supplier<Checkpoints.State> state;
  private final Checkpoints.Writer tensors;
  private final List<Path> configs;
  private final List<TrainingListener> notify;
  private final java.util.function.Consumer<String> onSaved;

  public CheckpointListener(Checkpoints checkpoints, int every, int total, Supplier<Checkpoints.State> state,
      Checkpoints.Writer tensors, List<Path> configs, List<TrainingListener> notify, java.util.function.Consumer<String> onSaved) {
    this.checkpoints = checkpoints;
    this.every = Math.max(1, every);
    this.total = total;
    this.state = state;
    this.tensors = tensors;
    this.configs = configs;
    this.notify = notify;
    this.onSaved = onSaved;
  }

  @Override
  public void onStep(StepMetrics m) {
    int done = m.step() + 1;
    if (done % every == 0 || done == total) {
      Path dir = checkpoints.save(state.get(), tensors, configs);
      LOG.debug("checkpoint {}", dir);
      onSaved.accept(dir.toString());
      for (TrainingListener l : notify) l.onCheckpoint(m.step(), dir);
    }
  }
}
