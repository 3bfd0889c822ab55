package org.m3ae.bench;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.autodiff.listeners.At;
import org.nd4j.autodiff.listeners.BaseListener;
import org.nd4j.autodiff.listeners.Operation;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.dataset.api.MultiDataSet;

/**
 * Wall time between SameDiff's {@code preOpExecution} and {@code opExecution} callbacks, summed per op type: the time
 * spent inside ops (execution of the native kernel, including its output allocation). Comparing the sum with the
 * call's wall time shows how much goes to the executor itself (dependency tracking, shape inference, array
 * bookkeeping, garbage collection).
 */
public final class OpProfiler extends BaseListener {
  /** Per op type: calls and summed milliseconds. */
  public record Row(String op, long calls, double ms) {}

  private final Map<String, long[]> byOp = new HashMap<>();
  private long start;
  private long totalNs;
  private long ops;

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
    String name = op.getOp().opName();
    if (outputs != null && outputs.length > 0 && outputs[0] != null && "matmul".equals(name)) name += "/rank" + outputs[0].rank();
    long[] a = byOp.computeIfAbsent(name, k -> new long[2]);
    a[0]++;
    a[1] += dt;
    totalNs += dt;
    ops++;
  }

  public void reset() {
    byOp.clear();
    totalNs = 0;
    ops = 0;
  }

  public double totalMs() {
    return totalNs / 1e6;
  }

  public long opsExecuted() {
    return ops;
  }

  /** The rows sorted by time, most expensive first. */
  public List<Row> rows() {
    List<Row> r = new ArrayList<>();
    byOp.forEach((k, v) -> r.add(new Row(k, v[0], v[1] / 1e6)));
    r.sort((x, y) -> Double.compare(y.ms(), x.ms()));
    return r;
  }
}
