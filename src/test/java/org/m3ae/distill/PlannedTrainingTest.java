package org.m3ae.distill;

import org.m3ae.train.RunConfig;
import org.m3ae.masking.MaskSource;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.m3ae.data.pipeline.Batch;
import org.m3ae.model.BuildOptions;
import org.m3ae.model.M3aeModel;
import org.m3ae.model.ModelConfig;
import org.m3ae.model.ModelConfigLoader;
import org.m3ae.train.AdamW;
import org.m3ae.train.Executor;
import org.m3ae.train.LrSchedule;
import org.m3ae.train.StepMetrics;
import org.m3ae.train.Trainer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Distillation steps through replayed plans ({@link Executor#PLAN}) against the same steps through SameDiff's session
 * ({@link Executor#SESSION}): student init, teacher forward, attention-guided remask, dropout, batch vocabulary, MLM +
 * MIM + ITM + hidden + attention KD, one gradient call per pass, clipping and AdamW. Every loss of every step and every
 * weight after the last step must be equal bit for bit: the plan runs the same kernels on the same arrays, only
 * without the session's per-op bookkeeping. Two micro-batches per step check that a plan's gradient arrays, which it
 * overwrites on its next call, are not accumulated into after that.
 */
class PlannedTrainingTest {

  @Test
  void planEqualsSessionBitForBit() throws Exception {
    for (int accumulate : new int[] {1, 2}) {
      Run session = train(Executor.SESSION, accumulate);
      Run plan = train(Executor.PLAN, accumulate);
      assertTrue(plan.report.contains("plans built") && !plan.report.contains("session"), plan.report);
      assertEquals(session.steps.size(), plan.steps.size());
      for (int s = 0; s < session.steps.size(); s++) {
        for (String k : List.of("loss_mlm", "loss_mim", "loss_itm", "loss_hid", "loss_attn", "grad_norm")) {
          double want = session.steps.get(s).values().get(k);
          assertTrue(want > 0, k + " is a real term at step " + s);
          assertEquals(want, plan.steps.get(s).values().get(k), 0.0, k + " at step " + s + ", accumulate " + accumulate);
        }
      }
      int compared = 0;
      for (var e : session.weights.entrySet()) {
        INDArray p = plan.weights.get(e.getKey());
        assertTrue(e.getValue().equals(p) && e.getValue().sub(p).amaxNumber().doubleValue() == 0.0,
            e.getKey() + " after training, accumulate " + accumulate);
        compared++;
      }
      assertTrue(compared > 100, "weights compared: " + compared);
    }
  }

  /**
   * The same with EfficientVLM's KD form (scores, ×L_k, stream weights, α = 0.4) and the MLM and ITM logit KD terms,
   * whose teacher logits come from the teacher's extra MLM and ITM passes: the new ops are planned, not left to the
   * session, and equal it bit for bit.
   */
  @Test
  void efficientVlmFormThroughPlansEqualsTheSession() throws Exception {
    Run session = train(Executor.SESSION, 1, DistillGradientCheckTest.LOGIT_WEIGHTS, DistillGradientCheckTest.efficientVlm());
    Run plan = train(Executor.PLAN, 1, DistillGradientCheckTest.LOGIT_WEIGHTS, DistillGradientCheckTest.efficientVlm());
    assertTrue(plan.report.contains("plans built") && !plan.report.contains("session"), plan.report);
    for (int s = 0; s < session.steps.size(); s++) {
      for (String k : List.of("loss_mlm", "loss_mlm_kd", "loss_mim", "loss_itm", "loss_hid", "loss_attn", "loss_itm_kd", "grad_norm")) {
        double want = session.steps.get(s).values().get(k);
        assertTrue(want > 0, k + " is a real term at step " + s);
        assertEquals(want, plan.steps.get(s).values().get(k), 0.0, k + " at step " + s);
      }
    }
    for (var e : session.weights.entrySet()) {
      assertTrue(e.getValue().sub(plan.weights.get(e.getKey())).amaxNumber().doubleValue() == 0.0, e.getKey());
    }
  }

  /** The teacher's forward (a plan per batch shape) equals SameDiff's output exactly, on batches of two sizes. */
  @Test
  void teacherForwardThroughPlansEqualsTheSession() throws Exception {
    ModelConfig teacherCfg = ModelConfigLoader.parse(PretrainRunTest.MODEL.getBytes(), "micro");
    Teacher teacher = Teacher.of(M3aeModel.build(teacherCfg, BuildOptions.defaults()));
    teacher.request(teacher.maskAttentionNames());
    teacher.request(List.of(org.m3ae.model.Names.JOINT));
    for (long seed : new long[] {1, 2, 1}) {
      Batch b = SyntheticBatch.first(teacherCfg.vision().imageSize(), seed);
      Map<String, INDArray> want = teacher.graph().sd().output(PretrainGraph.cleanFeed(b),
          teacher.maskAttentionNames().get(0), teacher.maskAttentionNames().get(1), org.m3ae.model.Names.JOINT);
      Map<String, INDArray> got = teacher.forward(b);
      assertEquals(3, want.size());
      for (var e : want.entrySet()) {
        assertTrue(e.getValue().equalsWithEps(got.get(e.getKey()), 0.0), e.getKey() + ", batch seed " + seed);
      }
    }
  }

  private record Run(List<StepMetrics> steps, Map<String, INDArray> weights, String report) {}

  private static Run train(Executor executor, int accumulate) throws Exception {
    return train(executor, accumulate, Map.of("mlm", 1.0, "mim", 1.0, "itm", 1.0, "hid", 1.0, "attn", 1.0), KdSpec.LITERAL);
  }

  private static Run train(Executor executor, int accumulate, Map<String, Double> weights, KdSpec kd) throws Exception {
    ModelConfig teacherCfg = ModelConfigLoader.parse(PretrainRunTest.MODEL.getBytes(), "micro");
    ModelConfig studentCfg = ModelConfigLoader.parse(PretrainGraphSplitTest.STUDENT.getBytes(), "micro-student");
    PretrainGraph g = new PretrainGraph(studentCfg, teacherCfg, KdMapping.of(teacherCfg, studentCfg, Map.of()), weights, true,
        true, org.nd4j.linalg.api.buffer.DataType.FLOAT, null, kd);
    var tg = M3aeModel.build(teacherCfg, BuildOptions.defaults());
    for (var p : g.teacherPasses()) tg.addPass(p);
    Teacher teacher = Teacher.of(tg);
    DistillTask task = new DistillTask(g, teacher, RunConfig.Mask.of(MaskSource.BOTH), 10, 5, true);
    List<Batch> batches = new ArrayList<>();
    for (int i = 0; i < 3 * accumulate; i++) batches.add(SyntheticBatch.first(studentCfg.vision().imageSize(), 20 + i));
    int[] next = {0};
    Trainer t = new Trainer(task, () -> batches.get(next[0]++),
        new Trainer.Settings(3, accumulate, LrSchedule.of(1e-3, 0.0, 3), Map.of(), 1.0, 0, executor),
        new AdamW(new AdamW.Settings(0.9, 0.98, 1e-6, 0.01)), List.of());
    List<StepMetrics> steps = new ArrayList<>();
    for (int s = 0; s < 3; s++) steps.add(t.step(s));
    Map<String, INDArray> w = new java.util.HashMap<>();
    t.parameters().forEach((k, v) -> w.put(k, v.dup()));
    return new Run(steps, w, t.executorReport());
  }
}
