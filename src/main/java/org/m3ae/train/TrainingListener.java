package org.m3ae.train;

import java.nio.file.Path;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Hooks of the training loop (pre-training and fine-tuning). Metrics writing, the progress bar, checkpoints, the
 * mask schedule and the UI are all listeners, so the loop itself only computes and updates.
 *
 * <p>DL4J's own {@code Listener.iterationDone} receives a {@code Loss} that is always 0 in 1.0.0-M2.1
 * (DL4J-NOTES); these hooks get the loss values the loop read back from the graph.
 */
public interface TrainingListener {
  /**
   * Once per run, before {@link #onStart}: the weights being trained, by graph name — the live arrays the optimiser
   * updates in place (as DL4J's own listeners receive the model), e.g. for weight statistics. Writing to them changes
   * the run.
   */
  default void onParameters(Map<String, INDArray> parameters) {}

  /** Before the first step (also after a resume; {@code startStep} is the first step to run). */
  default void onStart(Path runDir, int startStep, int totalSteps) {}

  /** Before step {@code step} computes anything. */
  default void onStepStart(int step) {}

  /** After the update of step {@code m.step()}. */
  default void onStep(StepMetrics m) {}

  /** After an evaluation on the validation split (fine-tuning). */
  default void onValidation(StepMetrics m) {}

  /** After a checkpoint directory has been completed and published. */
  default void onCheckpoint(int step, Path checkpointDir) {}

  /** When the run stops, normally or not ({@code failure} null on success). */
  default void onEnd(int lastStep, Throwable failure) {}
}
