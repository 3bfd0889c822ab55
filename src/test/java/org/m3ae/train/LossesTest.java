package org.m3ae.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.m3ae.testing.GradCheck;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Each objective building block: its value against a hand computation and its gradient against finite differences. */
class LossesTest {
  private static final DataType D = DataType.DOUBLE;

  private static INDArray randn(long seed, long... shape) {
    Nd4j.getRandom().setSeed(seed);
    return Nd4j.randn(D, shape);
  }

  @Test
  void crossEntropyOverSelectedPositions() {
    double[][][] logits = {{{1, 2, 0.5}, {0, 0, 3}}, {{-1, 4, 1}, {2, 2, 2}}};
    int[][] labels = {{1, 0}, {2, 0}};
    double[][] w = {{1, 0}, {1, 1}};
    SameDiff sd = SameDiff.create();
    SDVariable x = sd.var("x", Nd4j.createFromArray(logits));
    Losses.crossEntropy(sd, x, sd.constant(Nd4j.createFromArray(labels)), sd.constant(Nd4j.createFromArray(w)), 3, 3)
        .rename("loss");
    double want = 0;
    int n = 0;
    for (int b = 0; b < 2; b++) {
      for (int t = 0; t < 2; t++) {
        if (w[b][t] == 0) continue;
        double z = 0;
        for (double v : logits[b][t]) z += Math.exp(v);
        want += Math.log(z) - logits[b][t][labels[b][t]];
        n++;
      }
    }
    assertEquals(want / n, sd.output(Map.of(), "loss").get("loss").getDouble(0), 1e-12);
    GradCheck.check(sd, Map.of(), "loss", 40, 1);
  }

  @Test
  void weightedMeanIsZeroNotNaNWithoutSelection() {
    SameDiff sd = SameDiff.create();
    SDVariable x = sd.constant(Nd4j.createFromArray(1.0, 2.0, 3.0));
    SDVariable w = sd.constant(Nd4j.createFromArray(0.0, 0.0, 0.0));
    assertEquals(0.0, Losses.weightedMean(sd, x, w).eval().getDouble(0), 0.0);
  }

  @Test
  void bceWithLogitsMatchesTheDefinitionAndIsStableForLargeLogits() {
    double[] x = {-30, -2, 0, 0.7, 45};
    double[] t = {0, 1, 0.5, 1, 1};
    SameDiff sd = SameDiff.create();
    INDArray got = Losses.bceWithLogits(sd, sd.constant(Nd4j.createFromArray(x)), sd.constant(Nd4j.createFromArray(t))).eval();
    for (int i = 0; i < x.length; i++) {
      double p = 1 / (1 + Math.exp(-x[i]));
      double want = x[i] > 20 ? (1 - t[i]) * x[i] : x[i] < -20 ? -t[i] * x[i] : -(t[i] * Math.log(p) + (1 - t[i]) * Math.log(1 - p));
      assertEquals(want, got.getDouble(i), 1e-9, "x=" + x[i]);
    }
    SameDiff g = SameDiff.create();
    SDVariable v = g.var("x", randn(3, 4, 5));
    Losses.bceWithLogits(g, v, g.constant(Nd4j.rand(D, 4, 5))).mean().rename("loss");
    GradCheck.check(g, Map.of(), "loss", 10, 2);
  }

  @Test
  void mimTargetIsRowColChannelOrderStandardisedWithUnbiasedVariance() {
    int b = 1, c = 3, p = 2, grid = 2, hw = 4;
    INDArray img = randn(5, b, c, hw, hw);
    SameDiff sd = SameDiff.create();
    INDArray got = Losses.mimTarget(sd, sd.constant(img), c, grid, p, true).eval(); // [1, 4, 12]
    for (int gy = 0; gy < grid; gy++) {
      for (int gx = 0; gx < grid; gx++) {
        double[] v = new double[p * p * c];
        int k = 0;
        for (int py = 0; py < p; py++) for (int qx = 0; qx < p; qx++) for (int ch = 0; ch < c; ch++) {
          v[k++] = img.getDouble(0, ch, gy * p + py, gx * p + qx);
        }
        double mu = 0, var = 0;
        for (double a : v) mu += a / v.length;
        for (double a : v) var += (a - mu) * (a - mu) / (v.length - 1);
        for (int i = 0; i < v.length; i++) {
          assertEquals((v[i] - mu) / Math.sqrt(var + 1e-6), got.getDouble(0, gy * grid + gx, i), 1e-9);
        }
      }
    }
  }

  @Test
  void mimLossAveragesOverMaskedPatchesOnly() {
    double[][][] pred = {{{1, 1}, {0, 2}, {5, 5}}};
    double[][][] tgt = {{{0, 1}, {0, 0}, {0, 0}}};
    SameDiff sd = SameDiff.create();
    SDVariable l = Losses.mimLoss(sd, sd.constant(Nd4j.createFromArray(pred)), sd.constant(Nd4j.createFromArray(tgt)),
        sd.constant(Nd4j.createFromArray(new double[][] {{1, 1, 0}})));
    assertEquals((0.5 + 2.0) / 2, l.eval().getDouble(0), 1e-12); // the unmasked third patch (error 25) is ignored
  }

  @Test
  void rowWeightedMseAndAttentionKdGradients() {
    SameDiff sd = SameDiff.create();
    SDVariable a = sd.var("a", randn(7, 3, 2, 4, 4));
    SDVariable h = sd.var("h", randn(8, 3, 5, 6));
    SDVariable rows = sd.constant(Nd4j.createFromArray(1.0, 0.0, 1.0));
    Losses.rowWeightedMse(sd, sd.nn.softmax(a, -1), sd.constant(randn(9, 3, 2, 4, 4).mul(0.1).add(0.25)), rows, 4)
        .add(Losses.rowWeightedMse(sd, h, sd.constant(randn(10, 3, 5, 6)), rows, 3)).rename("loss");
    var r = GradCheck.check(sd, Map.of(), "loss", List.of("a", "h"), 20, 3, 1e-6, 1e-5, 1e-9);
    assertEquals(40, r.checked());
    // Row 1 has weight 0: its elements get exactly zero gradient.
    sd.setLossVariables("loss");
    INDArray gh = sd.calculateGradients(Map.of(), "h").get("h");
    assertEquals(0.0, gh.slice(1).amaxNumber().doubleValue(), 0.0);
  }

  @Test
  void scaledLossesScaleTheirGradient() {
    // The defect these blocks avoid: in M2.1 the gradient of 3·sd.loss.X equals that of X.
    for (double scale : new double[] {1, 3}) {
      SameDiff sd = SameDiff.create();
      SDVariable x = sd.var("x", randn(11, 4, 5));
      Losses.crossEntropy(sd, x, sd.constant(Nd4j.createFromArray(0, 1, 2, 3)), sd.constant(Nd4j.ones(D, 4)), 5, 2)
          .mul(scale).rename("loss");
      sd.setLossVariables("loss");
      INDArray g = sd.calculateGradients(Map.of(), "x").get("x");
      INDArray base = unitGradient();
      assertEquals(0.0, g.sub(base.mul(scale)).amaxNumber().doubleValue(), 1e-12, "scale " + scale);
    }
  }

  private static INDArray unitGradient() {
    SameDiff sd = SameDiff.create();
    SDVariable x = sd.var("x", randn(11, 4, 5));
    Losses.crossEntropy(sd, x, sd.constant(Nd4j.createFromArray(0, 1, 2, 3)), sd.constant(Nd4j.ones(D, 4)), 5, 2).rename("loss");
    sd.setLossVariables("loss");
    return sd.calculateGradients(Map.of(), "x").get("x");
  }
}
