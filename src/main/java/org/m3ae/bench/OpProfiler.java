package org.m3ae.bench;

import org.m3ae.train.OpTimes;
import org.nd4j.autodiff.listeners.At;
import org.nd4j.autodiff.listeners.BaseListener;
import org.nd4j.autodiff.listeners.Operation;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.dataset.api.MultiDataSet;

/**
 * Wall time between SameDiff's {@code preOpExecution} and {@code opExecution} callbacks, summed per op type into
 * {@link OpTimes}: the time spent inside ops (the native kernel, including its output allocation) when a graph runs
 * through SameDiff's session. Comparing the sum with the call's wall time shows how much goes to the executor itself
 * (dependency tracking, shape inference, array bookkeeping, garbage collection).
 */
public final class OpProfiler extends BaseListener {
  private final OpTimes times = new OpTimes();
  private long start;

  @Override
  public boolean isActive(Operation operation) {
    return true;
  }

  @Override
  public void preOpExecution(SameDiff sd, At at, SameDiffOp op, OpContext opContext) {
    start = System.nanoTime();
  }

  @Override
  public void opExecution(SameDiff sd, At at, MultiDataSet batch, SameDiffOp op, OpContext ctx, INDArray[] outputs) {
    long dt = System.nanoTime() - start;
    times.add(OpTimes.key(op.getOp().opName(), outputs != null && outputs.length > 0 ? outputs[0] : null), dt);
  }

  public OpTimes times() {
    return times;
  }
}
