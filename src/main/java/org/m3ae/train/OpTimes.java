package org.m3ae.train;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Wall time inside ops, summed per op type: what {@code bench --profile} reports. Filled by a replayed
 * {@link GraphPlan} (timing each native call) or by a SameDiff listener around the session's ops. Products are split
 * by the rank of their output ({@code matmul/rank2}, {@code matmul/rank4}): the 2-D Linears and the per-head attention
 * products run at different rates (docs/performance.md).
 */
public final class OpTimes {
  /** Per op type: calls and summed milliseconds. */
  public record Row(String op, long calls, double ms) {}

  private final Map<String, long[]> byOp = new HashMap<>();
  private long totalNs;
  private long ops;

  /** The row an op's time goes to: its name, with the output's rank for products. */
  public static String key(String opName, INDArray firstOutput) {
    return firstOutput != null && "matmul".equals(opName) ? opName + "/rank" + firstOutput.rank() : opName;
  }

  public void add(String key, long nanos) {
    long[] a = byOp.computeIfAbsent(key, k -> new long[2]);
    a[0]++;
    a[1] += nanos;
    totalNs += nanos;
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

  /** The rows, most expensive first. */
  public List<Row> rows() {
    List<Row> r = new ArrayList<>();
    byOp.forEach((k, v) -> r.add(new Row(k, v[0], v[1] / 1e6)));
    r.sort((x, y) -> Double.compare(y.ms(), x.ms()));
    return r;
  }
}
