package org.m3ae.train;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.nd4j.autodiff.listeners.At;
import org.nd4j.autodiff.listeners.BaseListener;
import org.nd4j.autodiff.listeners.Listener;
import org.nd4j.autodiff.listeners.Operation;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.autodiff.samediff.config.ExecutionResult;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code calculateGradientsAndOutputs} with the gradient function's array release switched on.
 *
 * <p>M2.1's {@code calculateGradientsAndOutputs} runs the gradient function with {@code setEnableCache(false)}: no
 * array is released during the call, so a call's peak is the sum of every op output of forward and backward. With the
 * cache on, the session hands an array back to its memory manager once every op that reads it has run (the same
 * dependency tracking inference uses), and the manager reuses it for a later output of the same shape. After the call
 * the graph's sessions are dropped ({@link SessionRelease}), so nothing of it stays pinned until the next call.
 *
 * <p>The gradients are not requested as outputs: M2.1's {@code AbstractSession.output} checks each requested name
 * with {@code sameDiff.variableMap().containsKey(name)}, and {@code variableMap()} copies every variable of the graph
 * into a new map, so a call asking for one gradient per weight costs (weights × graph variables) map insertions — 17 %
 * of a tiny model's training step in a JFR profile (docs/performance.md). They are passed as <em>required
 * activations</em> instead and copied by a listener as the ops that produce them run (the session protects only
 * requested outputs from release: a required activation nobody reads goes back to the memory manager at once and is
 * overwritten by a later output); only the few loss outputs go through the check.
 */
final class GradientCall {
  private static final Method DIRECT_EXEC;

  static {
    try {
      DIRECT_EXEC = SameDiff.class.getDeclaredMethod("directExecHelper", Map.class, At.class,
          org.nd4j.linalg.dataset.api.MultiDataSet.class, Collection.class, List.class, String[].class);
      DIRECT_EXEC.setAccessible(true);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError("SameDiff.directExecHelper not found: not DL4J 1.0.0-M2.1 (" + e + ")");
    }
  }

  private GradientCall() {}

  static OutAndGrad run(SameDiff sd, Map<String, INDArray> placeholders, Collection<String> outputs,
      Collection<String> wrt) {
    GradientFunction.build(sd); // once; mutes SameDiff's per-op "Added differentiated op" lines on stdout
    Map<String, String> gradName = new HashMap<>();
    for (String w : wrt) {
      SDVariable g = sd.getVariable(w).getGradient();
      if (g != null) gradName.put(w, g.name());
    }
    SameDiff gradFn = sd.getFunction("grad");
    gradFn.setEnableCache(true);
    gradFn.setListeners(sd.getListeners());
    GradientCollector collector = new GradientCollector(Set.copyOf(gradName.values()));
    List<Listener> listeners = new ArrayList<>();
    for (Listener l : gradFn.getListeners()) if (l.isActive(Operation.TRAINING)) listeners.add(l);
    listeners.add(collector);
    At at = At.defaultAt(Operation.TRAINING);
    for (Listener l : listeners) l.operationStart(gradFn, Operation.TRAINING);
    ExecutionResult r;
    try {
      r = (ExecutionResult) DIRECT_EXEC.invoke(gradFn, placeholders, at, null, gradName.values(), listeners,
          outputs.toArray(new String[0]));
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("gradient call failed", e.getCause() == null ? e : e.getCause());
    }
    for (Listener l : listeners) l.operationEnd(gradFn, Operation.TRAINING);
    Map<String, INDArray> out = new HashMap<>();
    if (r.hasValues()) r.getValueOutputs().forEach((k, v) -> out.put(k, v.getTensorValue()));
    else for (Map.Entry<String, Optional<INDArray>> e : r.getOutputs().entrySet()) out.put(e.getKey(), e.getValue().orElse(null));
    Map<String, INDArray> grads = new HashMap<>();
    for (var e : gradName.entrySet()) {
      INDArray g = collector.values.get(e.getValue());
      if (g == null) throw new IllegalStateException("gradient " + e.getValue() + " of " + e.getKey() + " was not computed");
      grads.put(e.getKey(), g);
    }
    SessionRelease.release(sd);
    return new OutAndGrad(out, grads);
  }

  /** Copies the arrays of the named variables as the session produces them, before it can release them. */
  private static final class GradientCollector extends BaseListener {
    private final Set<String> wanted;
    private final Map<String, INDArray> values = new HashMap<>();

    GradientCollector(Set<String> wanted) {
      this.wanted = wanted;
    }

    @Override
    public boolean isActive(Operation operation) {
      return true;
    }

    @Override
    public void activationAvailable(SameDiff sd, At at, org.nd4j.linalg.dataset.api.MultiDataSet batch, SameDiffOp op,
        String varName, INDArray activation) {
      if (wanted.contains(varName)) values.put(varName, activation.dup());
    }
  }
}
