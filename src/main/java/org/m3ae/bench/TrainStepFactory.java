package org.m3ae.bench;

import org.m3ae.model.ModelConfig;

/**
 * Where the training column of the bench comes from. {@link GradientStepFactory} times forward+backward of the
 * pre-training passes with {@code calculateGradients} (what a step costs minus the update); a factory over the
 * project's own trainer plugs in here once it exists, without changing the bench.
 */
public interface TrainStepFactory {
  /** Short name for the report. */
  String name();

  /** A full pre-training step (MLM + MIM + ITM) of {@code model} alone, e.g. the teacher. */
  TrainStep pretrain(ModelConfig model, int batch, long seed);

  /** A full distillation step of {@code student} from {@code teacher} (teacher forward + student step). */
  TrainStep distill(ModelConfig student, ModelConfig teacher, int batch, long seed);
}
