package org.m3ae.train;

import java.util.List;
import java.util.Map;
import org.m3ae.data.pipeline.Batch;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

/** What {@link Trainer} trains: a graph, its loss terms, parameter groups, and how a batch becomes its feed. */
public interface TrainTask {
  SameDiff sd();

  /** Trainable variable names. */
  List<String> trainable();

  /** Metric keys of the loss terms, in logging order; the last is the optimised total. */
  List<String> lossKeys();

  /** Graph variable of a loss term. */
  String lossVariable(String key);

  /**
   * The graphs one step differentiates, each with its own gradient call; loss terms and gradients add up across
   * them. Default: the whole objective in {@link #sd()} at once.
   */
  default List<GradientGraph> gradientGraphs() {
    return List.of(new GradientGraph(sd(), lossKeys(), trainable()));
  }

  /**
   * The gradients of one call of one of {@link #gradientGraphs} on {@code feed}, by trainable variable: where a
   * graph differentiates stand-ins of weights (e.g. the step's rows of a word table), this maps them back.
   */
  default Map<String, INDArray> weightGradients(Map<String, INDArray> grads, Map<String, INDArray> feed) {
    return grads;
  }

  /** Learning-rate group of a variable (SPEC §2.6). */
  default LrGroup lrGroup(String variable) {
    return LrGroup.of(variable);
  }

  /** Every placeholder value for one micro-batch of step {@code step} (may run a teacher, redraw masks). */
  Map<String, INDArray> feed(Batch batch, int step, int micro);

  /** Extra per-step metrics, e.g. the mask ratio r. */
  default Map<String, Double> stepMetrics(int step) {
    return Map.of();
  }
}
