package org.m3ae.bench;

/**
 * The training-step source the bench uses: the project's trainer once it offers a single-step API, until then
 * {@link GradientStepFactory} (forward+backward of the three pre-training passes, no update).
 */
public final class TrainSteps {
  private TrainSteps() {}

  public static TrainStepFactory factory() {
    return new GradientStepFactory();
  }
}
