package org.m3ae.distill;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.m3ae.train.Losses;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The new KD terms on arrays small enough to work out by hand, against closed forms written out here in Java. */
class KdLossesTest {

  /** KL(softmax(t/T) ‖ softmax(s/T)) per row, against Σ p·log(p/q) computed here, at T = 1, 2 and 0.5. */
  @Test
  void klAtTemperatureIsTheClosedForm() {
    double[][] s = {{1, 2, 0.5}, {0, 0, 3}};
    double[][] t = {{2, 0, 1}, {1, 1, 1}};
    for (double temp : new double[] {1, 2, 0.5}) {
      SameDiff sd = SameDiff.create();
      SDVariable kl = KdLosses.klAtTemperature(sd, sd.constant(Nd4j.createFromArray(s)), sd.constant(Nd4j.createFromArray(t)),
          temp, 2);
      INDArray got = kl.eval();
      for (int r = 0; r < 2; r++) {
        double[] p = softmax(t[r], temp), q = softmax(s[r], temp);
        double want = 0;
        for (int k = 0; k < 3; k++) want += p[k] * Math.log(p[k] / q[k]);
        assertEquals(want, got.getDouble(r), 1e-12, "row " + r + " at T = " + temp);
      }
    }
    // row 1 by hand at T = 1: p = (1/3, 1/3, 1/3), q = (1, 1, e³)/(2 + e³): KL = log((2 + e³)/3) − 1
    SameDiff sd = SameDiff.create();
    double v = KdLosses.klAtTemperature(sd, sd.constant(Nd4j.createFromArray(new double[][] {{0, 0, 3}})),
        sd.constant(Nd4j.createFromArray(new double[][] {{1, 1, 1}})), 1, 2).eval().getDouble(0);
    assertEquals(Math.log((2 + Math.exp(3)) / 3) - 1, v, 1e-12);
    // equal logits: 0
    SDVariable same = sd.constant(Nd4j.createFromArray(new double[][] {{0.3, -1, 2}}));
    assertEquals(0, KdLosses.klAtTemperature(sd, same, same, 3, 2).eval().getDouble(0), 1e-15);
  }

  /** Rank 3 (the MLM logits [B, Lt, V]): each position's KL, then the mean over the positions with weight 1. */
  @Test
  void mlmLogitKdAveragesTheMaskedPositions() {
    double[][][] s = {{{1, 0}, {0, 2}}, {{3, 1}, {0, 0}}};
    double[][][] t = {{{0, 1}, {5, 0}}, {{1, 1}, {2, 2}}};
    double[][] w = {{1, 0}, {1, 1}};
    double temp = 2;
    SameDiff sd = SameDiff.create();
    SDVariable kl = KdLosses.klAtTemperature(sd, sd.constant(Nd4j.createFromArray(s)), sd.constant(Nd4j.createFromArray(t)), temp, 3);
    double got = Losses.weightedMean(sd, kl, sd.constant(Nd4j.createFromArray(w))).eval().getDouble(0);
    double sum = 0;
    for (int b = 0; b < 2; b++) {
      for (int i = 0; i < 2; i++) {
        if (w[b][i] == 0) continue;
        double[] p = softmax(t[b][i], temp), q = softmax(s[b][i], temp);
        for (int k = 0; k < 2; k++) sum += p[k] * Math.log(p[k] / q[k]);
      }
    }
    assertEquals(sum / 3, got, 1e-12);
  }

  /**
   * Attention KL per row: Σ_k A_T·log(A_T/A_S) per query, averaged over heads and queries. A padded key (probability
   * 0 in both maps) contributes 0 and leaves the value finite.
   */
  @Test
  void attentionKlIsFiniteAndExactWithPaddedKeys() {
    // [B=1, h=1, Lq=2, Lk=3], key 2 padded
    double[][] a = {{0.5, 0.5, 0}, {0.9, 0.1, 0}};
    double[][] b = {{0.25, 0.75, 0}, {0.6, 0.4, 0}};
    SameDiff sd = SameDiff.create();
    double got = KdLosses.attentionKl(sd, sd.constant(Nd4j.createFromArray(a).reshape(1, 1, 2, 3)),
        sd.constant(Nd4j.createFromArray(b).reshape(1, 1, 2, 3))).eval().getDouble(0);
    double q0 = 0.25 * Math.log(0.25 / 0.5) + 0.75 * Math.log(0.75 / 0.5);
    double q1 = 0.6 * Math.log(0.6 / 0.9) + 0.4 * Math.log(0.4 / 0.1);
    assertEquals((q0 + q1) / 2, got, 1e-9); // KL_EPS moves it by ~1e-10
  }

  /**
   * The scores form of one layer pair: padded keys zeroed in both maps, then the mean squared difference over every
   * element, ×L_k under {@code scale: keys}; worked out by hand.
   */
  @Test
  void maskedScoresMseByHand() {
    // [B=1, h=1, Lq=1, Lk=3]; key 2 padded: its (arbitrary, e.g. −10000-masked) scores must not count
    INDArray s = Nd4j.createFromArray(new double[] {1, 2, -9999}).reshape(1, 1, 1, 3);
    INDArray t = Nd4j.createFromArray(new double[] {0, 4, 5}).reshape(1, 1, 1, 3);
    INDArray mask = Nd4j.createFromArray(new double[][] {{1, 1, 0}});
    SameDiff sd = SameDiff.create();
    SDVariable m = sd.constant(mask);
    SDVariable a = KdLosses.maskedScores(sd, sd.constant(s), m, 3), b = KdLosses.maskedScores(sd, sd.constant(t), m, 3);
    SDVariable rows = sd.constant(Nd4j.ones(DataType.DOUBLE, 1));
    double mse = Losses.rowWeightedMse(sd, a, b, rows, 4).eval().getDouble(0);
    assertEquals(((1 - 0) * (1 - 0) + (2 - 4) * (2 - 4) + 0) / 3.0, mse, 1e-15); // 5/3
    assertEquals(5.0, mse * 3, 1e-14, "EfficientVLM's ×L_k: Σ over the keys of the one query");
  }

  /** Softmax of x/T in double precision, the hand reference of the KD tests. */
  static double[] softmax(double[] x, double temp) {
    double max = Double.NEGATIVE_INFINITY, z = 0;
    for (double v : x) max = Math.max(max, v / temp);
    double[] p = new double[x.length];
    for (int i = 0; i < x.length; i++) z += p[i] = Math.exp(x[i] / temp - max);
    for (int i = 0; i < x.length; i++) p[i] /= z;
    return p;
  }
}
