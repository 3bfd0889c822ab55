package org.m3ae.train;

import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.nativeblas.NativeOpsHolder;

/**
 * The two thread pools a SameDiff step runs on, set apart: libnd4j's own ops (elementwise, reductions, softmax,
 * permutes — OpenMP) and the matrix products (OpenBLAS, its own pthreads).
 *
 * <p>Why two numbers (docs/performance.md, "Threads"): SameDiff runs thousands of small ops per step. With two OpenMP
 * threads each of them forks and joins a team, and whenever the second core is busy (a data-pipeline worker, the
 * garbage collector, another process) the join waits for a descheduled thread: a full reduction of 8 K floats took
 * 8 ms instead of 0.2 ms on a loaded 2-core machine. The matrix products are large enough to gain from both cores.
 *
 * <p>{@code Environment.setMaxThreads} alone is not enough: it caps libnd4j's own loops, but reductions to a scalar
 * still open an OpenMP team of {@code omp_get_max_threads()}; {@code omp_set_num_threads} is what caps those.
 */
public final class ComputeThreads {
  private ComputeThreads() {}

  /** libnd4j op threads (OpenMP and libnd4j's loops) and BLAS threads; each ≥ 1. */
  public static void apply(int opThreads, int blasThreads) {
    if (opThreads < 1 || blasThreads < 1) {
      throw new IllegalArgumentException("thread counts must be >= 1, got ops " + opThreads + ", BLAS " + blasThreads);
    }
    Nd4j.getEnvironment().setMaxThreads(opThreads);
    Nd4j.getEnvironment().setMaxMasterThreads(opThreads);
    NativeOpsHolder.getInstance().getDeviceNativeOps().setOmpNumThreads(opThreads);
    Nd4j.factory().blas().setMaxThreads(blasThreads);
  }

  /** Current libnd4j op threads (OpenMP's maximum team size). */
  public static int opThreads() {
    return NativeOpsHolder.getInstance().getDeviceNativeOps().ompGetMaxThreads();
  }

  /** Current BLAS threads. */
  public static int blasThreads() {
    return Nd4j.factory().blas().getMaxThreads();
  }
}
