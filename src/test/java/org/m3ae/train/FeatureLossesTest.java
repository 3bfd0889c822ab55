package org.m3ae.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.m3ae.testing.GradCheck;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** MMKD-CLIP's FD and ICL building blocks (SPEC §10) against values worked out by hand, and their gradients. */
class FeatureLossesTest {
  private static INDArray m(double[][] v) {
    return Nd4j.createFromArray(v);
  }

  @Test
  void normalisedMseAndContrastiveMatchHandComputedValues() {
    SameDiff sd = SameDiff.create();
    // student rows (3, 4) and (1, 0) normalise to (0.6, 0.8) and (1, 0); teacher rows are unit already
    SDVariable a = sd.placeHolder("a", DataType.DOUBLE, -1, 2);
    SDVariable t = sd.placeHolder("t", DataType.DOUBLE, -1, 2);
    SDVariable an = Losses.l2Normalize(sd, a);
    Losses.featureDistillation(sd, an, t).rename("fd");
    Losses.contrastive(sd, an, t, sd.constant(2.0)).rename("icl");
    Map<String, INDArray> out = sd.output(Map.of("a", m(new double[][] {{3, 4}, {1, 0}}), "t", m(new double[][] {{0, 1}, {1, 0}})),
        "fd", "icl");
    // FD: ((0.6 − 0)² + (0.8 − 1)² + (1 − 1)² + (0 − 0)²) / 4 = (0.36 + 0.04) / 4
    assertEquals(0.1, out.get("fd").getDouble(0), 1e-12);
    // logits 2·Â·Tᵀ = [[1.6, 1.2], [0, 2]], labels (0, 1):
    // row 0: log(e^1.6 + e^1.2) − 1.6 = log(1 + e^−0.4); row 1: log(e^0 + e^2) − 2 = log(1 + e^−2)
    double want = (Math.log(1 + Math.exp(-0.4)) + Math.log(1 + Math.exp(-2))) / 2; // 0.319972…
    assertEquals(want, out.get("icl").getDouble(0), 1e-12);
    assertEquals(0.3199716, want, 1e-6);
  }

  @Test
  void gradientsOfProjectionScaleAndStudentFeatureMatchFiniteDifferences() {
    SameDiff sd = SameDiff.create();
    Nd4j.getRandom().setSeed(3);
    SDVariable x = sd.var("x", Nd4j.randn(DataType.DOUBLE, 4, 3)); //        student feature [B, Ds]
    SDVariable w = sd.var("w", Nd4j.randn(DataType.DOUBLE, 3, 5)); //        projection [Ds, Dt]
    SDVariable b = sd.var("b", Nd4j.randn(DataType.DOUBLE, 5).muli(0.1));
    SDVariable s = sd.var("s", Nd4j.scalar(DataType.DOUBLE, Math.log(1 / 0.07)));
    SDVariable t = sd.placeHolder("t", DataType.DOUBLE, -1, 5);
    SDVariable sn = Losses.l2Normalize(sd, x.mmul(w).add(b));
    SDVariable tn = Losses.l2Normalize(sd, t);
    Losses.featureDistillation(sd, sn, tn).mul(7.0).add(Losses.contrastive(sd, sn, tn, s).mul(0.3)).rename("loss");
    GradCheck.Result r = GradCheck.check(sd, Map.of("t", Nd4j.randn(DataType.DOUBLE, 4, 5)), "loss", 100, 1, 1e-6, 1e-6, 1e-10);
    assertEquals(12 + 15 + 5 + 1, r.checked());
  }
}
