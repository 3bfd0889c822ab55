package org.m3ae.distill;

import org.m3ae.train.RunConfig;
import org.m3ae.masking.MaskSource;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.m3ae.train.GradientFunction;
import org.m3ae.data.pipeline.Batch;
import org.m3ae.model.ModelConfig;
import org.m3ae.model.ModelConfigLoader;
import org.m3ae.train.GradientGraph;
import org.m3ae.train.SessionRelease;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.m3ae.testing.Exact;

/**
 * The trainer's gradient call (arrays released and reused during the call, session dropped after it) against SameDiff's
 * own {@code calculateGradientsAndOutputs} (nothing released; the path the finite-difference check covers), on the
 * whole MLM + MIM + ITM objective: the same losses and gradients, bit for bit, on consecutive calls; weights untouched
 * (a weight handed to the array cache and reused as an op output would change them); no session left behind.
 */
class ReleasingGradientCallTest {

  @Test
  void releasingCallEqualsSameDiffsOwnAndLeavesWeightsAndNoSession() throws Exception {
    ModelConfig cfg = ModelConfigLoader.parse(PretrainRunTest.MODEL.getBytes(), "micro");
    PretrainGraph g = new PretrainGraph(cfg, null, null, Map.of("mlm", 1.0, "mim", 1.0, "itm", 1.0), false);
    DistillTask task = new DistillTask(g, null, RunConfig.Mask.of(MaskSource.RANDOM), 10, 5, false);
    SameDiff sd = g.sd();
    GradientFunction.build(sd);
    GradientGraph whole = new GradientGraph(sd, g.lossKeys(), g.trainable());

    Batch batch = SyntheticBatch.first(cfg.vision().imageSize(), 3);
    Map<String, INDArray> feed = task.feed(batch, 0, 0);
    Map<String, INDArray> before = new HashMap<>();
    for (String n : g.trainable()) before.put(n, sd.getArrForVarName(n).dup());

    for (int call = 0; call < 2; call++) {
      OutAndGrad ref = sd.calculateGradientsAndOutputs(GradientGraph.placeholdersOf(sd, feed), g.lossVariables(),
          g.trainable());
      GradientGraph.Result got = whole.compute(feed, PretrainGraph.LOSSES::get);
      assertEquals(0, SessionRelease.sessions(sd), "sessions dropped after the call");
      for (String k : g.lossKeys()) {
        double want = ref.getOutputs().get(PretrainGraph.LOSSES.get(k)).getDouble(0);
        assertTrue(want > 0, k);
        assertEquals(want, got.losses().get(k), 0.0, k);
      }
      int compared = 0;
      for (var e : ref.getGradients().entrySet()) {
        if (e.getValue() == null) continue;
        Exact.assertBitEqual(e.getValue(), got.gradients().get(e.getKey()), e.getKey() + ", call " + call);
        compared++;
      }
      assertTrue(compared > 50, "gradients compared: " + compared);
      for (String n : g.trainable()) Exact.assertBitEqual(before.get(n), sd.getArrForVarName(n), n + " unchanged by the call");
    }
  }
}
