package org.m3ae.bench;

import org.m3ae.train.Executor;

/**
 * The training-step sources of the bench: {@link TrainerStepFactory} (the project's trainer step, update included) and
 * {@link GradientStepFactory} (forward+backward of the three pre-training passes only).
 */
public final class TrainSteps {
  private TrainSteps() {}

  /** The project's trainer step (default). */
  public static TrainStepFactory factory() {
    return new TrainerStepFactory(true);
  }

  /**
   * {@code trainer} (default: one backward per pass, as the trainer runs), {@code joint} (the trainer's step with one
   * backward over all passes, {@code train.backward: joint}) or {@code grad} (forward+backward only).
   */
  public static TrainStepFactory named(String name) {
    return named(name, Executor.PLAN);
  }

  /** As {@link #named(String)}, the trainer's gradient calls through {@code executor}. */
  public static TrainStepFactory named(String name, Executor executor) {
    return switch (name) {
      case "trainer" -> new TrainerStepFactory(true, executor);
      case "joint" -> new TrainerStepFactory(false, executor);
      case "grad" -> new GradientStepFactory();
      default -> throw new IllegalArgumentException("--train-step: 'trainer', 'joint' or 'grad', not '" + name + "'");
    };
  }
}
