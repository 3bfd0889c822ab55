package org.m3ae.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The primitive blocks against values computed independently here, with plain loops or known answers. */
class NnReferenceTest {
  private static Nn nn(SameDiff sd) {
    return new Nn(new Params(sd, DataType.DOUBLE, 0.1, 1, true), "", false, false, new DropoutSites());
  }

  private static double[][][] rand3(Random r, int a, int b, int c) {
    double[][][] x = new double[a][b][c];
    for (double[][] p : x) for (double[] q : p) for (int i = 0; i < c; i++) q[i] = r.nextGaussian() * 2 + 0.5;
    return x;
  }

  @Test
  void layerNormMatchesLoopWithConfiguredEpsilon() {
    Random r = new Random(1);
    double[][][] x = rand3(r, 2, 3, 5);
    double[] gain = {1.5, -0.5, 2, 1, 0.25};
    double[] shift = {0.1, 0.2, -0.3, 0, 1};
    for (double eps : new double[] {1e-5, 1e-12, 0.5}) {
      SameDiff sd = SameDiff.create();
      Nn nn = nn(sd);
      SDVariable in = sd.constant(Nd4j.createFromArray(x));
      var norm = new Params.Norm(sd.constant(Nd4j.createFromArray(gain)), sd.constant(Nd4j.createFromArray(shift)), eps);
      INDArray y = nn.layerNorm(in, norm, 3).eval();
      for (int a = 0; a < 2; a++) {
        for (int b = 0; b < 3; b++) {
          double mu = 0, var = 0;
          for (double v : x[a][b]) mu += v / 5;
          for (double v : x[a][b]) var += (v - mu) * (v - mu) / 5;
          for (int i = 0; i < 5; i++) {
            double want = (x[a][b][i] - mu) / Math.sqrt(var + eps) * gain[i] + shift[i];
            assertEquals(want, y.getDouble(a, b, i), 1e-12, "eps " + eps);
          }
        }
      }
    }
  }

  @Test
  void geluIsTheExactErfFormNotTheTanhApproximation() {
    // x·Φ(x) with Φ from standard normal tables: Φ(1) = 0.8413447460685429, Φ(2) = 0.9772498680518208,
    // Φ(0.5) = 0.6914624612740131, Φ(−1) = 0.15865525393145707, Φ(−3) = 0.0013498980316301.
    double[] xs = {1, 2, 0.5, -1, -3, 0};
    double[] want = {0.8413447460685429, 2 * 0.9772498680518208, 0.5 * 0.6914624612740131,
        -0.15865525393145707, -3 * 0.0013498980316301, 0};
    SameDiff sd = SameDiff.create();
    INDArray y = nn(sd).gelu(sd.constant(Nd4j.createFromArray(xs))).eval();
    for (int i = 0; i < xs.length; i++) assertEquals(want[i], y.getDouble(i), 1e-12, "gelu(" + xs[i] + ")");
    // The tanh approximation differs by ~1.5e-4 at x = 1: far outside the tolerance above.
    double tanhApprox = 0.5 * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (1 + 0.044715))) * 1;
    assertTrue(Math.abs(tanhApprox - y.getDouble(0)) > 1e-4);
  }

  @Test
  void quickGeluMatchesLoop() {
    double[] xs = {-4, -1.3, -0.2, 0, 0.7, 3.1};
    SameDiff sd = SameDiff.create();
    INDArray y = nn(sd).quickGelu(sd.constant(Nd4j.createFromArray(xs))).eval();
    for (int i = 0; i < xs.length; i++) {
      assertEquals(xs[i] / (1 + Math.exp(-1.702 * xs[i])), y.getDouble(i), 1e-12);
    }
  }

  @Test
  void maskedAttentionMatchesLoopsAndIgnoresPaddedKeys() {
    int b = 2, lq = 3, lk = 4, h = 2, d = 6, dh = d / h;
    Random r = new Random(3);
    double[][][] q = rand3(r, b, lq, d), k = rand3(r, b, lk, d), v = rand3(r, b, lk, d);
    double[][] mask = {{1, 1, 1, 1}, {1, 1, 0, 0}}; // second row: two padded keys
    SameDiff sd = SameDiff.create();
    Nn nn = nn(sd);
    SDVariable m = sd.placeHolder("mask", DataType.DOUBLE, -1, lk);
    var att = nn.attention(sd.constant(Nd4j.createFromArray(q)), sd.constant(Nd4j.createFromArray(k)),
        sd.constant(Nd4j.createFromArray(v)), nn.additiveKeyMask(m, lk), h, lq, lk, d, "probs", 0, "s");
    Map<String, INDArray> out = sd.output(Map.of("mask", Nd4j.createFromArray(mask)), "probs", att.context().name());
    INDArray probs = out.get("probs");
    INDArray ctx = out.get(att.context().name());
    assertEquals(4, probs.rank());
    for (int bi = 0; bi < b; bi++) {
      for (int hi = 0; hi < h; hi++) {
        for (int i = 0; i < lq; i++) {
          double[] s = new double[lk];
          double max = Double.NEGATIVE_INFINITY;
          for (int j = 0; j < lk; j++) {
            double dot = 0;
            for (int t = 0; t < dh; t++) dot += q[bi][i][hi * dh + t] * k[bi][j][hi * dh + t];
            s[j] = dot / Math.sqrt(dh) + (mask[bi][j] - 1) * 10000;
            max = Math.max(max, s[j]);
          }
          double z = 0;
          for (int j = 0; j < lk; j++) z += Math.exp(s[j] - max);
          double rowSum = 0;
          for (int j = 0; j < lk; j++) {
            double p = Math.exp(s[j] - max) / z;
            assertEquals(p, probs.getDouble(bi, hi, i, j), 1e-12);
            rowSum += probs.getDouble(bi, hi, i, j);
            if (mask[bi][j] == 0) assertEquals(0.0, probs.getDouble(bi, hi, i, j), 0.0, "padded key must get 0");
          }
          assertEquals(1.0, rowSum, 1e-12);
          for (int t = 0; t < dh; t++) {
            double c = 0;
            for (int j = 0; j < lk; j++) c += Math.exp(s[j] - max) / z * v[bi][j][hi * dh + t];
            assertEquals(c, ctx.getDouble(bi * lq + i, hi * dh + t), 1e-12); // context rows [B·Lq, D]
          }
        }
      }
    }
  }
}
