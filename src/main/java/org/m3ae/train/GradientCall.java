package org.m3ae.train;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.nd4j.autodiff.listeners.Listener;
import org.nd4j.autodiff.listeners.Operation;
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
 */
final class GradientCall {
  private static final Method BATCH_OUTPUT;

  static {
    try {
      BATCH_OUTPUT = SameDiff.class.getDeclaredMethod("batchOutputHelper", Map.class, List.class, Operation.class,
          String[].class);
      BATCH_OUTPUT.setAccessible(true);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError("SameDiff.batchOutputHelper not found: not DL4J 1.0.0-M2.1 (" + e + ")");
    }
  }

  private GradientCall() {}

  static OutAndGrad run(SameDiff sd, Map<String, INDArray> placeholders, Collection<String> outputs,
      Collection<String> wrt) {
    if (sd.getFunction("grad") == null) sd.createGradFunction();
    List<String> names = new ArrayList<>(outputs);
    Map<String, String> gradName = new HashMap<>();
    for (String w : wrt) {
      SDVariable g = sd.getVariable(w).getGradient();
      if (g != null) {
        gradName.put(w, g.name());
        names.add(g.name());
      }
    }
    SameDiff gradFn = sd.getFunction("grad");
    gradFn.setEnableCache(true);
    gradFn.setListeners(sd.getListeners());
    ExecutionResult r;
    try {
      r = (ExecutionResult) BATCH_OUTPUT.invoke(gradFn, placeholders, null, Operation.TRAINING,
          names.toArray(new String[0]));
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("gradient call failed", e.getCause() == null ? e : e.getCause());
    }
    Map<String, INDArray> all = new HashMap<>();
    if (r.hasValues()) r.getValueOutputs().forEach((k, v) -> all.put(k, v.getTensorValue()));
    else for (Map.Entry<String, Optional<INDArray>> e : r.getOutputs().entrySet()) all.put(e.getKey(), e.getValue().orElse(null));
    Map<String, INDArray> out = new HashMap<>();
    for (String o : outputs) out.put(o, all.get(o));
    Map<String, INDArray> grads = new HashMap<>();
    for (var e : gradName.entrySet()) grads.put(e.getKey(), all.get(e.getValue()));
    SessionRelease.release(sd);
    return new OutAndGrad(out, grads);
  }
}
