package org.m3ae.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The two thread counts reach OpenMP and OpenBLAS separately; the global gradient norm and the gradient accumulation
 * through BLAS are exact.
 */
class ComputeThreadsTest {
  @Test
  void opAndBlasThreadsAreSetApart() {
    int ops = ComputeThreads.opThreads(), blas = ComputeThreads.blasThreads();
    try {
      ComputeThreads.apply(1, 2);
      assertEquals(1, ComputeThreads.opThreads(), "omp_get_max_threads after omp_set_num_threads(1)");
      assertEquals(1, Nd4j.getEnvironment().maxThreads());
      assertEquals(2, ComputeThreads.blasThreads());
      ComputeThreads.apply(2, 1);
      assertEquals(2, ComputeThreads.opThreads());
      assertEquals(1, ComputeThreads.blasThreads());
      assertThrows(IllegalArgumentException.class, () -> ComputeThreads.apply(0, 1));
    } finally {
      ComputeThreads.apply(ops, blas);
    }
  }

  @Test
  void globalNormEqualsTheSquareRootOfAllSquares() {
    Random r = new Random(5);
    Map<String, INDArray> grads = new LinkedHashMap<>();
    double sq = 0;
    long[][] shapes = {{7}, {3, 4}, {2, 3, 5}, {129, 65}};
    for (int i = 0; i < shapes.length; i++) {
      INDArray g = Nd4j.create(DataType.FLOAT, shapes[i]);
      for (long j = 0; j < g.length(); j++) {
        float v = (float) (r.nextGaussian() * Math.pow(10, i - 2));
        g.putScalar(j, v);
        sq += (double) v * v;
      }
      grads.put("g" + i, g);
    }
    grads.put("view", grads.get("g3").get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 5),
        org.nd4j.linalg.indexing.NDArrayIndex.interval(1, 4))); // a strided view is read correctly too
    INDArray v = grads.get("view");
    for (long j = 0; j < v.length(); j++) sq += Math.pow(v.getDouble(j), 2);
    double want = Math.sqrt(sq);
    assertEquals(want, Trainer.globalNorm(grads), want * 1e-6);
  }

  @Test
  void accumulationThroughBlasEqualsElementwiseSums() {
    Random r = new Random(8);
    float[] a = new float[65 * 33], b = new float[65 * 33];
    for (int i = 0; i < a.length; i++) {
      a[i] = (float) r.nextGaussian();
      b[i] = (float) r.nextGaussian();
    }
    INDArray big = Nd4j.create(DataType.FLOAT, 4, 65, 33);
    Map<String, INDArray> acc = new LinkedHashMap<>();
    acc.put("w", Nd4j.create(a.clone(), new long[] {65, 33}, 'c'));
    acc.put("view", big.get(org.nd4j.linalg.indexing.NDArrayIndex.point(1))); // not a whole buffer: addi's path
    acc.get("view").assign(Nd4j.create(a.clone(), new long[] {65, 33}, 'c'));
    Map<String, INDArray> g = new LinkedHashMap<>();
    g.put("w", Nd4j.create(b.clone(), new long[] {65, 33}, 'c'));
    g.put("view", Nd4j.create(b.clone(), new long[] {65, 33}, 'c'));
    g.put("new", Nd4j.create(b.clone(), new long[] {65, 33}, 'c'));
    Trainer.addInto(acc, g, 0.5);
    Trainer.addInto(acc, g, 1.0);
    for (String k : new String[] {"w", "view"}) {
      float[] got = acc.get(k).dup('c').data().asFloat();
      for (int i = 0; i < a.length; i++) assertEquals(a[i] + 1.5f * b[i], got[i], 1e-5, k + " element " + i);
    }
    float[] fresh = acc.get("new").dup('c').data().asFloat(); // first contribution scaled by 0.5, then g itself added
    for (int i = 0; i < b.length; i++) assertEquals(1.5f * b[i], fresh[i], 1e-5, "new element " + i);
  }
}
