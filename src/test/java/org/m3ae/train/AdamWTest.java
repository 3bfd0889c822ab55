package org.m3ae.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.m3ae.testing.Exact;

/**
 * AdamW against HF transformers' AdamW written out in double precision here, one scalar at a time: m and v
 * moments, step size lr·√(1−β2^t)/(1−β1^t), ε added to √v, decoupled decay applied after the Adam step and only to
 * names that decay.
 */
class AdamWTest {
  private static final AdamW.Settings S = new AdamW.Settings(0.9, 0.98, 1e-8, 0.01);
  private static final String W = "fusion.layer.0.fc.weight";
  private static final String B = "fusion.layer.0.fc.bias";

  /** HF AdamW on one parameter tensor, flattened. */
  private static final class Reference {
    final double[] w, m, v;
    int t;

    Reference(float[] w0) {
      w = new double[w0.length];
      for (int i = 0; i < w0.length; i++) w[i] = w0[i];
      m = new double[w0.length];
      v = new double[w0.length];
    }

    void step(float[] g, double lr, double wd) {
      t++;
      double stepSize = lr * Math.sqrt(1 - Math.pow(S.beta2(), t)) / (1 - Math.pow(S.beta1(), t));
      for (int i = 0; i < w.length; i++) {
        m[i] = S.beta1() * m[i] + (1 - S.beta1()) * g[i];
        v[i] = S.beta2() * v[i] + (1 - S.beta2()) * g[i] * g[i];
        if (lr == 0) continue;
        w[i] -= stepSize * m[i] / (Math.sqrt(v[i]) + S.eps());
        w[i] -= lr * wd * w[i];
      }
    }
  }

  private static float[] randoms(Random r, int n, double scale) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) a[i] = (float) (r.nextGaussian() * scale);
    return a;
  }

  private static void assertClose(double[] expected, INDArray actual, String what) {
    float[] a = actual.dup('c').data().asFloat();
    assertEquals(expected.length, a.length);
    for (int i = 0; i < a.length; i++) {
      assertEquals(expected[i], a[i], 2e-6 + 2e-6 * Math.abs(expected[i]), what + " element " + i);
    }
  }

  @Test
  void matchesHfAdamWOverStepsWithDecayOnlyOnWeightsAndPerGroupRates() {
    Random r = new Random(7);
    float[] w0 = randoms(r, 12, 1), b0 = randoms(r, 4, 1);
    Map<String, INDArray> params = new LinkedHashMap<>();
    params.put(W, Nd4j.create(w0, new long[] {3, 4}, 'c'));
    params.put(B, Nd4j.create(b0, new long[] {4}, 'c'));
    Reference rw = new Reference(w0), rb = new Reference(b0);
    AdamW adam = new AdamW(S);
    // Large rates and decay so that every term moves the weights well beyond float rounding.
    Map<String, Double> lr = Map.of(W, 0.05, B, 0.02);
    for (int step = 0; step < 4; step++) {
      float[] gw = randoms(r, 12, 0.5 + step), gb = randoms(r, 4, 0.1);
      Map<String, INDArray> grads = new LinkedHashMap<>();
      grads.put(W, Nd4j.create(gw.clone(), new long[] {3, 4}, 'c'));
      grads.put(B, Nd4j.create(gb.clone(), new long[] {4}, 'c'));
      adam.step(params, grads, lr::get);
      rw.step(gw, lr.get(W), S.weightDecay());
      rb.step(gb, lr.get(B), 0);
      assertClose(rw.w, params.get(W), "weight after step " + step);
      assertClose(rb.w, params.get(B), "bias after step " + step);
    }
    assertEquals(4, adam.steps());
  }

  @Test
  void aFrozenGroupKeepsItsWeightsButItsMomentsMove() {
    Random r = new Random(11);
    float[] w0 = randoms(r, 12, 1);
    INDArray w = Nd4j.create(w0, new long[] {3, 4}, 'c');
    INDArray before = w.dup();
    Reference ref = new Reference(w0);
    AdamW adam = new AdamW(S);
    float[] g1 = randoms(r, 12, 1), g2 = randoms(r, 12, 1);
    adam.step(Map.of(W, w), Map.of(W, Nd4j.create(g1.clone(), new long[] {3, 4}, 'c')), n -> 0.0);
    ref.step(g1, 0, S.weightDecay());
    Exact.assertBitEqual(before, w, "lr 0 leaves the weights bit for bit");
    // The second step's update depends on the first step's moments.
    adam.step(Map.of(W, w), Map.of(W, Nd4j.create(g2.clone(), new long[] {3, 4}, 'c')), n -> 0.03);
    ref.step(g2, 0.03, S.weightDecay());
    assertClose(ref.w, w, "weight after the first unfrozen step");
  }

  @Test
  void savedMomentsResumeBitForBit(@TempDir Path dir) {
    Random r = new Random(3);
    float[] w0 = randoms(r, 12, 1);
    INDArray w = Nd4j.create(w0, new long[] {3, 4}, 'c');
    AdamW adam = new AdamW(S);
    for (int i = 0; i < 2; i++) {
      adam.step(Map.of(W, w), Map.of(W, Nd4j.create(randoms(r, 12, 1), new long[] {3, 4}, 'c')), n -> 0.01);
    }
    adam.save(dir.resolve("adamw.safetensors"));
    AdamW resumed = new AdamW(S);
    resumed.load(dir.resolve("adamw.safetensors"), List.of(W));
    assertEquals(2, resumed.steps());
    INDArray w2 = w.dup();
    float[] g = randoms(r, 12, 1);
    adam.step(Map.of(W, w), Map.of(W, Nd4j.create(g.clone(), new long[] {3, 4}, 'c')), n -> 0.01);
    resumed.step(Map.of(W, w2), Map.of(W, Nd4j.create(g.clone(), new long[] {3, 4}, 'c')), n -> 0.01);
    assertArrayEquals(w.data().asFloat(), w2.data().asFloat());
  }

  @Test
  void theClippingFactorActsAsAScaledGradientWithoutWritingIt() {
    Random r = new Random(5);
    float[] w0 = randoms(r, 12, 1);
    INDArray w = Nd4j.create(w0, new long[] {3, 4}, 'c');
    Reference ref = new Reference(w0);
    AdamW adam = new AdamW(S);
    for (int step = 0; step < 3; step++) {
      float[] g = randoms(r, 12, 2);
      INDArray ga = Nd4j.create(g.clone(), new long[] {3, 4}, 'c');
      double f = 0.25 + 0.1 * step;
      adam.step(Map.of(W, w), Map.of(W, ga), n -> 0.05, f);
      float[] scaled = new float[g.length];
      for (int i = 0; i < g.length; i++) scaled[i] = (float) (g[i] * f);
      ref.step(scaled, 0.05, S.weightDecay());
      assertClose(ref.w, w, "weight after clipped step " + step);
      assertArrayEquals(g, ga.data().asFloat(), "the fused update leaves the gradient as it was");
    }
  }

  @Test
  void viewsAndOtherDtypesTakeLibnd4jsUpdaterToTheSameResult() {
    Random r = new Random(9);
    float[] w0 = randoms(r, 24, 1);
    // a strided view (every other column of a [3, 8] array) and a float64 weight: not one contiguous float32 buffer
    INDArray base = Nd4j.create(w0, new long[] {3, 8}, 'c');
    INDArray view = base.get(org.nd4j.linalg.indexing.NDArrayIndex.all(),
        org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 2, 8));
    INDArray dbl = Nd4j.create(w0, new long[] {3, 8}, 'c').castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE);
    assertTrue(AdamW.contiguousFloats(view) == null && AdamW.contiguousFloats(dbl) == null);
    assertTrue(AdamW.contiguousFloats(Nd4j.create(w0, new long[] {3, 8}, 'c')) != null);
    float[] vw = view.dup('c').data().asFloat();
    Reference rv = new Reference(vw), rd = new Reference(w0);
    AdamW adam = new AdamW(S);
    for (int step = 0; step < 3; step++) {
      float[] gv = randoms(r, 12, 1), gd = randoms(r, 24, 1);
      Map<String, INDArray> params = new LinkedHashMap<>();
      params.put(W, view);
      params.put("text.layer.0.fc.weight", dbl);
      Map<String, INDArray> grads = new LinkedHashMap<>();
      grads.put(W, Nd4j.create(gv.clone(), new long[] {3, 4}, 'c'));
      grads.put("text.layer.0.fc.weight", Nd4j.create(gd.clone(), new long[] {3, 8}, 'c')
          .castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE));
      adam.step(params, grads, n -> 0.03, 0.5);
      for (int i = 0; i < gv.length; i++) gv[i] *= 0.5f;
      for (int i = 0; i < gd.length; i++) gd[i] *= 0.5f;
      rv.step(gv, 0.03, S.weightDecay());
      rd.step(gd, 0.03, S.weightDecay());
      assertClose(rv.w, view, "strided view after step " + step);
      assertClose(rd.w, dbl.castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT), "float64 weight after step " + step);
    }
  }

  @Test
  void aGradientOfTheWrongShapeIsRejectedByName() {
    INDArray w = Nd4j.zeros(3, 4);
    var e = assertThrows(IllegalArgumentException.class,
        () -> new AdamW(S).step(Map.of(W, w), Map.of(W, Nd4j.zeros(4, 3)), n -> 0.01));
    assertTrue(e.getMessage().contains(W), e.getMessage());
  }
}
