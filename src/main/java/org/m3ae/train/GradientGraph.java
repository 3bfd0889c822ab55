package org.m3ae.train;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.nd4j.autodiff.samediff.SDVariable;
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

  /**
   * The placeholders the loss variables depend on (the gradients read no others): a graph may declare more, such as
   * the dropout masks of a tower that a step with some terms weighted 0 never runs.
   */
  public Set<String> placeholdersRead(Function<String, String> lossVariable) {
    Set<String> declared = Set.copyOf(sd.inputs());
    List<String> ops;
    try {
      ops = GraphPlan.schedule(sd, lossKeys.stream().map(lossVariable).toList());
    } catch (GraphPlan.Unsupported e) {
      return declared; // control flow: every placeholder, as a session call would be fed
    }
    Set<String> out = new java.util.HashSet<>();
    for (String op : ops) {
      List<String> in = sd.getOps().get(op).getInputsToOp();
      if (in != null) for (String v : in) if (declared.contains(v)) out.add(v);
    }
    return out;
  }

  /** The gradient function of {@code sd} (built on first use), the graph a training plan runs. */
  public SameDiff gradientFunction() {
    GradientFunction.build(sd);
    return sd.getFunction("grad");
  }

  /** Loss values by metric key and gradients by variable name of one call on {@code feed}. */
  public record Result(Map<String, Double> losses, Map<String, INDArray> gradients) {}

  /**
   * Differentiates this graph on the placeholders of {@code feed} it declares ({@link #placeholdersOf}) through
   * SameDiff's session ({@link GradientCall}). The gradients are the caller's.
   */
  public Result compute(Map<String, INDArray> feed, Function<String, String> lossVariable) {
    return compute(feed, lossVariable, null);
  }

  /**
   * As {@link #compute(Map, Function)}, through a plan of the gradient function when {@code plans} (built over
   * {@link #gradientFunction}) has one: the gradients are then the plan's arrays, valid until its next call.
   */
  public Result compute(Map<String, INDArray> feed, Function<String, String> lossVariable, PlanCache plans) {
    Map<String, INDArray> mine = placeholdersOf(sd, feed);
    List<String> vars = lossKeys.stream().map(lossVariable).toList();
    if (plans != null) {
      Map<String, String> gradName = new LinkedHashMap<>();
      for (String w : trainable) {
        SDVariable g = sd.getVariable(w).getGradient();
        if (g != null) gradName.put(w, g.name());
      }
      List<String> outs = new ArrayList<>(vars);
      outs.addAll(gradName.values());
      Map<String, INDArray> r = plans.run(mine, outs);
      if (r != null) {
        Map<String, Double> losses = new LinkedHashMap<>();
        for (int i = 0; i < vars.size(); i++) losses.put(lossKeys.get(i), r.get(vars.get(i)).getDouble(0));
        Map<String, INDArray> grads = new HashMap<>();
        for (var e : gradName.entrySet()) grads.put(e.getKey(), r.get(e.getValue()));
        return new Result(losses, grads);
      }
    }
    OutAndGrad og = GradientCall.run(sd, mine, vars, trainable); // releases arrays during and after the call
    Map<String, Double> losses = new java.util.LinkedHashMap<>();
    for (int i = 0; i < vars.size(); i++) losses.put(lossKeys.get(i), og.getOutputs().get(vars.get(i)).getDouble(0));
    Map<String, INDArray> grads = new HashMap<>();
    for (var e : og.getGradients().entrySet()) if (e.getValue() != null) grads.put(e.getKey(), e.getValue());
    return new Result(losses, grads);
  }
}
