package org.m3ae.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The replayed execution plan against hand-computed values and against SameDiff's own session: outputs and gradients
 * on consecutive calls with different feeds (buffers shared by liveness must not leak values from one call or one op
 * into another), a variable whose array is replaced between calls, and the errors and fall-backs.
 */
class GraphPlanTest {

  /** y = Σ_j tanh^(20)(x·w + b)_j: a chain of 20 same-shape ops, so liveness sharing has something to share. */
  private static SameDiff chain(INDArray w, INDArray b) {
    SameDiff sd = SameDiff.create();
    SDVariable x = sd.placeHolder("x", DataType.DOUBLE, -1, 3);
    SDVariable h = x.mmul(sd.var("w", w)).add(sd.var("b", b));
    for (int i = 0; i < 20; i++) h = sd.math.tanh(h);
    SDVariable id = sd.identity("alias", h); // passed through, never copied
    sd.sum("y", id, 1);
    return sd;
  }

  /** {@link #chain} with random weights, loss Σ y², and its gradient function built (muted: one line per op). */
  private static SameDiff chainWithLoss() {
    SameDiff sd = chain(Nd4j.rand(DataType.DOUBLE, 3, 4).subi(0.5), Nd4j.rand(DataType.DOUBLE, 4));
    sd.sum("loss", sd.getVariable("y").mul(sd.getVariable("y")));
    sd.setLossVariables("loss");
    GradientFunction.build(sd);
    return sd;
  }

  /** The same function in plain Java, in double precision. */
  private static double[] reference(double[][] x, double[][] w, double[] b) {
    double[] y = new double[x.length];
    for (int r = 0; r < x.length; r++) {
      for (int j = 0; j < b.length; j++) {
        double v = b[j];
        for (int k = 0; k < 3; k++) v += x[r][k] * w[k][j];
        for (int i = 0; i < 20; i++) v = Math.tanh(v);
        y[r] += v;
      }
    }
    return y;
  }

  @Test
  void replayEqualsHandComputedValuesOnEveryCallAndSharesBuffers() {
    double[][] w = {{0.5, -0.2, 0.1, 0.7}, {0.3, 0.8, -0.6, 0.2}, {-0.4, 0.1, 0.9, -0.3}};
    double[] b = {0.1, -0.1, 0.05, 0.2};
    SameDiff sd = chain(Nd4j.createFromArray(w), Nd4j.createFromArray(b));
    double[][] x1 = {{1, 2, 3}, {-1, 0.5, 0}};
    double[][] x2 = {{0.2, -0.7, 1.5}, {2, -2, 0.1}};
    GraphPlan plan = GraphPlan.build(sd, Map.of("x", Nd4j.createFromArray(x1)), List.of("y"));
    assertEquals(23, plan.ops(), "mmul, add, 20 tanh, sum; Identity is no step");
    assertTrue(plan.buffers() <= 4, "20 tanh of one shape share buffers: " + plan.buffers() + " buffers");
    for (double[][] x : new double[][][] {x1, x2, x1}) {
      INDArray y = plan.run(Map.of("x", Nd4j.createFromArray(x))).get("y");
      double[] want = reference(x, w, b);
      for (int r = 0; r < want.length; r++) assertEquals(want[r], y.getDouble(r), 1e-12, "row " + r);
    }
  }

  @Test
  void gradientFunctionReplayEqualsSameDiffsGradients() {
    SameDiff sd = chainWithLoss();
    SameDiff grad = sd.getFunction("grad");
    List<String> outs = List.of("loss", sd.getVariable("w").getGradient().name(), sd.getVariable("b").getGradient().name());
    GraphPlan plan = null;
    for (int call = 0; call < 3; call++) {
      INDArray x = Nd4j.rand(DataType.DOUBLE, 5, 3).subi(0.5).muli(call + 1);
      var ref = sd.calculateGradientsAndOutputs(Map.of("x", x), List.of("loss"), List.of("w", "b"));
      if (plan == null) plan = GraphPlan.build(grad, Map.of("x", x), outs);
      Map<String, INDArray> got = plan.run(Map.of("x", x));
      assertEquals(ref.getOutputs().get("loss").getDouble(0), got.get("loss").getDouble(0), 0.0, "loss, call " + call);
      assertEquals(ref.getGradients().get("w"), got.get(outs.get(1)), "dL/dw, call " + call);
      assertEquals(ref.getGradients().get("b"), got.get(outs.get(2)), "dL/db, call " + call);
    }
  }

  /** A released plan allocates and rebinds its buffers on the next call; the requested outputs stay valid. */
  @Test
  void releasedPlanRebindsItsBuffersAndKeepsItsOutputs() {
    SameDiff sd = chainWithLoss();
    List<String> outs = List.of("loss", sd.getVariable("w").getGradient().name());
    INDArray x0 = Nd4j.rand(DataType.DOUBLE, 5, 3);
    GraphPlan plan = GraphPlan.build(sd.getFunction("grad"), Map.of("x", x0), outs);
    INDArray dw0 = plan.outputArray(outs.get(1)).dup();
    assertTrue(plan.outputBytes() > 0 && plan.outputBytes() < plan.pooledBytes());
    plan.release();
    assertEquals(dw0, plan.outputArray(outs.get(1)), "outputs survive a release");
    for (int call = 0; call < 3; call++) {
      INDArray x = Nd4j.rand(DataType.DOUBLE, 5, 3).subi(0.5);
      var ref = sd.calculateGradientsAndOutputs(Map.of("x", x), List.of("loss"), List.of("w"));
      Map<String, INDArray> got = plan.run(Map.of("x", x));
      plan.release();
      assertEquals(ref.getOutputs().get("loss").getDouble(0), got.get("loss").getDouble(0), 0.0, "loss, call " + call);
      assertTrue(ref.getGradients().get("w").equalsWithEps(got.get(outs.get(1)), 0.0), "dL/dw, call " + call);
    }
  }

  @Test
  void replacedVariableArrayIsRebound() {
    double[][] w = {{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}};
    double[] b = {0, 0, 0, 0};
    SameDiff sd = chain(Nd4j.createFromArray(w), Nd4j.createFromArray(b));
    double[][] x = {{0.3, -0.2, 0.9}};
    GraphPlan plan = GraphPlan.build(sd, Map.of("x", Nd4j.createFromArray(x)), List.of("y"));
    double[][] w2 = {{0.2, 0.4, 0, 1}, {1, 0, -1, 0}, {0, 0.5, 1, 0}};
    sd.getVariable("w").setArray(Nd4j.createFromArray(w2)); // a new array object, as VocabSelect does per step
    assertEquals(reference(x, w2, b)[0], plan.run(Map.of("x", Nd4j.createFromArray(x))).get("y").getDouble(0), 1e-12);

    sd.getVariable("w").setArray(Nd4j.zeros(DataType.DOUBLE, 3, 5));
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> plan.run(Map.of("x", Nd4j.createFromArray(x))));
    assertTrue(e.getMessage().contains("variable 'w'"), e.getMessage());
  }

  @Test
  void feedOfAnotherShapeIsAnErrorNamingThePlaceholder() {
    SameDiff sd = chain(Nd4j.rand(DataType.DOUBLE, 3, 4), Nd4j.rand(DataType.DOUBLE, 4));
    GraphPlan plan = GraphPlan.build(sd, Map.of("x", Nd4j.rand(DataType.DOUBLE, 2, 3)), List.of("y"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> plan.run(Map.of("x", Nd4j.rand(DataType.DOUBLE, 4, 3))));
    assertTrue(e.getMessage().contains("placeholder 'x'") && e.getMessage().contains("[2, 3]"), e.getMessage());
  }

  @Test
  void cacheBuildsOnePlanPerShapeAndFallsBackWhereItCannotPlan() {
    SameDiff sd = chain(Nd4j.rand(DataType.DOUBLE, 3, 4), Nd4j.rand(DataType.DOUBLE, 4));
    PlanCache cache = new PlanCache(sd, "chain", 2, 1L << 30);
    for (int rows : new int[] {2, 2, 3, 2, 4, 3}) {
      INDArray x = Nd4j.rand(DataType.DOUBLE, rows, 3);
      INDArray want = sd.output(Map.of("x", x), "y").get("y");
      assertEquals(want, cache.run(Map.of("x", x), List.of("y")).get("y"), rows + " rows");
    }
    assertEquals(4, cache.builds(), "shapes 2, 3, 4 and 3 again after it was dropped (capacity 2)");
    assertEquals(2, cache.size());

    PlanCache tiny = new PlanCache(sd, "chain", 2, 8); // no plan fits in 8 bytes: buffers freed between calls
    for (int call = 0; call < 3; call++) {
      INDArray x = Nd4j.rand(DataType.DOUBLE, 2 + call % 2, 3);
      INDArray want = sd.output(Map.of("x", x), "y").get("y");
      assertEquals(want, tiny.run(Map.of("x", x), List.of("y")).get("y"), "released plan, call " + call);
    }
    assertTrue(tiny.releasesBetweenCalls());
    assertNull(tiny.sessionOnly());

    // each plan fits the budget alone, two do not: the first shape is dropped when the second is built; when it
    // comes back the plans release their buffers between calls instead of evicting each other on every call
    long b2 = GraphPlan.build(sd, Map.of("x", Nd4j.rand(DataType.DOUBLE, 2, 3)), List.of("y")).pooledBytes();
    long b3 = GraphPlan.build(sd, Map.of("x", Nd4j.rand(DataType.DOUBLE, 3, 3)), List.of("y")).pooledBytes();
    PlanCache tight = new PlanCache(sd, "chain", 8, Math.max(b2, b3) + Math.min(b2, b3) / 2);
    int[] sequence = {2, 3, 2, 3, 2, 3, 2};
    for (int call = 0; call < sequence.length; call++) {
      INDArray x = Nd4j.rand(DataType.DOUBLE, sequence[call], 3);
      INDArray want = sd.output(Map.of("x", x), "y").get("y");
      assertEquals(want, tight.run(Map.of("x", x), List.of("y")).get("y"), "call " + call);
      if (call == 1) {
        assertEquals(1, tight.size(), "the 2-row plan was dropped for the budget");
        assertFalse(tight.releasesBetweenCalls());
      }
    }
    assertEquals(3, tight.builds(), "2, 3, then 2 again once; never again after");
    assertTrue(tight.releasesBetweenCalls());
    assertEquals(2, tight.size());

    SameDiff random = SameDiff.create();
    SDVariable in = random.placeHolder("x", DataType.FLOAT, -1, 3);
    random.math.tanh("y", in.add(random.random.normal(0, 1, DataType.FLOAT, 2, 3)));
    PlanCache r = new PlanCache(random, "random");
    assertNull(r.run(Map.of("x", Nd4j.rand(DataType.FLOAT, 2, 3)), List.of("y")), "a random op needs the session");
    assertTrue(r.sessionOnly().contains("random"), r.sessionOnly());
  }
}
