package org.m3ae.train;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One graph a training step differentiates with its own gradient call ({@link GradientCall}): its loss terms (by
 * metric key) and the trainable variables it reaches. A task may split a step into several such graphs over shared
 * weight arrays (one per pre-training pass): the step then holds one graph's activations at a time, and the loss
 * terms and gradients of the graphs add up to those of the whole objective.
 */
public record GradientGraph(SameDiff sd, List<String> lossKeys, List<String> trainable) {

  /**
   * The entries of a step's feed that are placeholders of {@code sd}: a feed covers every graph of a task (and may
   * carry step data such as {@code VocabSelect.IDS}); SameDiff rejects values for placeholders a graph lacks.
   */
  public static Map<String, INDArray> placeholdersOf(SameDiff sd, Map<String, INDArray> feed) {
    Set<String> own = Set.copyOf(sd.inputs());
    Map<String, INDArray> mine = new HashMap<>();
    for (var e : feed.entrySet()) if (own.contains(e.getKey())) mine.put(e.getKey(), e.getValue());
    return mine;
  }

  /** Loss values by metric key and gradients by variable name of one call on {@code feed}. */
  public record Result(Map<String, Double> losses, Map<String, INDArray> gradients) {}

  /** Differentiates this graph on the placeholders of {@code feed} it declares ({@link #placeholdersOf}). */
  public Result compute(Map<String, INDArray> feed, Function<String, String> lossVariable) {
    Map<String, INDArray> mine = placeholdersOf(sd, feed);
    List<String> vars = lossKeys.stream().map(lossVariable).toList();
    OutAndGrad og = GradientCall.run(sd, mine, vars, trainable); // releases arrays during and after the call
    Map<String, Double> losses = new java.util.LinkedHashMap<>();
    for (int i = 0; i < vars.size(); i++) losses.put(lossKeys.get(i), og.getOutputs().get(vars.get(i)).getDouble(0));
    Map<String, INDArray> grads = new HashMap<>();
    for (var e : og.getGradients().entrySet()) if (e.getValue() != null) grads.put(e.getKey(), e.getValue());
    return new Result(losses, grads);
  }
}
