package org.m3ae.bench;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The hardware ceiling as this backend reaches it: a large single-precision matrix product through ND4J (BLAS sgemm). */
public final class Sgemm {
  private Sgemm() {}

  /** One measurement: the product's shape and its median throughput. */
  public record Result(long m, long k, long n, Stats stats) {
    public double gflops() {
      return 2.0 * m * k * n / (stats.medianMs() * 1e6);
    }

    public double bestGflops() {
      return 2.0 * m * k * n / (stats.minMs() * 1e6);
    }
  }

  /** [m, k] × [k, n] into a preallocated output, one warm-up, then {@code repeats} timed products. */
  public static Result measure(long m, long k, long n, int repeats) {
    Nd4j.getRandom().setSeed(1);
    INDArray a = Nd4j.rand(DataType.FLOAT, m, k);
    INDArray b = Nd4j.rand(DataType.FLOAT, k, n);
    INDArray c = Nd4j.create(DataType.FLOAT, m, n);
    a.mmuli(b, c);
    double[] ms = new double[Math.max(1, repeats)];
    for (int r = 0; r < ms.length; r++) {
      long t = System.nanoTime();
      a.mmuli(b, c);
      ms[r] = (System.nanoTime() - t) / 1e6;
    }
    return new Result(m, k, n, Stats.of(ms));
  }
}
