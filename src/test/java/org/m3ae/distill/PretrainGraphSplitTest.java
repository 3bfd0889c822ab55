package org.m3ae.distill;

import org.m3ae.train.RunConfig;
import org.m3ae.masking.MaskSource;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.m3ae.train.GradientFunction;
import org.m3ae.data.pipeline.Batch;
import org.m3ae.model.BuildOptions;
import org.m3ae.model.M3aeModel;
import org.m3ae.model.ModelConfig;
import org.m3ae.model.ModelConfigLoader;
import org.m3ae.train.GradientGraph;
import org.m3ae.train.Trainer;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.m3ae.testing.Edits;

/**
 * The per-pass backward (one gradient call each for MLM, MIM and ITM + KD, weights shared) against the reference of
 * one joint call over {@code loss/total}, whose gradient the finite-difference check covers: the same loss terms, the
 * same gradient for every weight, before and after the weights are changed in place as AdamW changes them.
 */
class PretrainGraphSplitTest {
  /** A narrower, shallower student than the micro teacher: KD projections and head-averaged attention maps too. */
  static final String STUDENT = student();

  private static String student() {
    String y = Edits.replaceOnce(PretrainRunTest.MODEL, "name: micro", "name: micro-student");
    y = Edits.replaceOnce(y, "encoder: {width: 32, layers: 2, heads: 2, mlp_dim: 64, activation: quick_gelu",
        "encoder: {width: 16, layers: 1, heads: 1, mlp_dim: 32, activation: quick_gelu");
    y = Edits.replaceOnce(y, "encoder: {width: 32, layers: 2, heads: 2, mlp_dim: 64, activation: gelu",
        "encoder: {width: 16, layers: 1, heads: 1, mlp_dim: 32, activation: gelu");
    return Edits.replaceOnce(y, "fusion: {width: 32, layers: 1, heads: 2, mlp_dim: 64", "fusion: {width: 16, layers: 1, heads: 1, mlp_dim: 32");
  }

  @Test
  void perPassGradientsAddUpToTheJointObjective() throws Exception {
    ModelConfig teacherCfg = ModelConfigLoader.parse(PretrainRunTest.MODEL.getBytes(), "micro");
    ModelConfig studentCfg = ModelConfigLoader.parse(STUDENT.getBytes(), "micro-student");
    assertEquals(16, studentCfg.fusion().width());
    PretrainGraph g = new PretrainGraph(studentCfg, teacherCfg, KdMapping.of(teacherCfg, studentCfg, Map.of()),
        Map.of("mlm", 1.0, "mim", 0.5, "itm", 2.0, "hid", 0.3, "attn", 7.0), true);
    Teacher teacher = Teacher.of(M3aeModel.build(teacherCfg, BuildOptions.defaults()));
    DistillTask task = new DistillTask(g, teacher, RunConfig.Mask.of(MaskSource.BOTH), 10, 5, true);
    List<GradientGraph> passes = task.gradientGraphs();
    assertEquals(3, passes.size());
    for (GradientGraph p : passes) GradientFunction.build(p.sd());
    GradientFunction.build(g.sd());

    Batch batch = SyntheticBatch.first(studentCfg.vision().imageSize(), 11);
    Map<String, INDArray> feed = task.feed(batch, 0, 0);
    assertSame(g, feed);

    // change every weight in place, as the optimizer does, and compare again on the next step's feed (which takes
    // the batch vocabulary's rows from the table): the pass graphs must see the new weights
    for (String n : g.trainable()) g.sd().getVariable(n).getArr().muli(1.25).addi(0.01);
    assertSame(g, task.feed(batch, 0, 0));
  }

  @Test
  void aPassWeightedZeroIsNotRunAndLosesNothing() throws Exception {
    ModelConfig teacherCfg = ModelConfigLoader.parse(PretrainRunTest.MODEL.getBytes(), "micro");
    ModelConfig studentCfg = ModelConfigLoader.parse(STUDENT.getBytes(), "micro-student");
    PretrainGraph g = new PretrainGraph(studentCfg, teacherCfg, KdMapping.of(teacherCfg, studentCfg, Map.of()),
        Map.of("mlm", 0.0, "mim", 0.5, "itm", 0.0, "hid", 0.3, "attn", 7.0), true);
    Teacher teacher = Teacher.of(M3aeModel.build(teacherCfg, BuildOptions.defaults()));
    DistillTask task = new DistillTask(g, teacher, RunConfig.Mask.of(MaskSource.RANDOM), 10, 5, true);
    // ITM weighs 0 but carries the KD terms, so it stays; MLM goes
    assertEquals(List.of(PretrainGraph.MIM, PretrainGraph.ITM), g.activePasses());
    assertEquals(2, task.gradientGraphs().size());
    assertEquals(List.of("loss_mim", "loss_itm", "loss_hid", "loss_attn", "loss_total"), g.lossKeys());
    for (GradientGraph p : task.gradientGraphs()) GradientFunction.build(p.sd());
    GradientFunction.build(g.sd());
    assertSame(g, task.feed(SyntheticBatch.first(studentCfg.vision().imageSize(), 11), 0, 0));

    PretrainGraph none = new PretrainGraph(studentCfg, null, null,
        Map.of("mlm", 0.0, "mim", 0.0, "itm", 0.0, "hid", 0.3, "attn", 7.0), true);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, none::perPassGraphs);
    assertTrue(e.getMessage().contains("every objective weight is 0"), e.getMessage());
  }

  /**
   * EfficientVLM's form with MLM and ITM logit KD and α = 0.4 through the per-pass graphs: the MLM KD term reads the
   * teacher's logits at the selected positions there, the full [B, Lt, V] in the joint graph.
   */
  @Test
  void efficientVlmFormWithLogitKdSplitsLikeTheJointObjective() throws Exception {
    ModelConfig teacherCfg = DistillGradientCheckTest.TEACHER, studentCfg = DistillGradientCheckTest.STUDENT;
    PretrainGraph g = new PretrainGraph(studentCfg, teacherCfg, KdMapping.of(teacherCfg, studentCfg, Map.of()),
        DistillGradientCheckTest.LOGIT_WEIGHTS, true, true, org.nd4j.linalg.api.buffer.DataType.FLOAT, null,
        DistillGradientCheckTest.efficientVlm());
    DistillTask task = new DistillTask(g, DistillGradientCheckTest.teacher(g), RunConfig.Mask.of(MaskSource.BOTH), 10,
        5, true);
    assertEquals(3, task.gradientGraphs().size());
    for (GradientGraph p : task.gradientGraphs()) GradientFunction.build(p.sd());
    GradientFunction.build(g.sd());
    assertSame(g, task.feed(SyntheticBatch.first(studentCfg.vision().imageSize(), 11), 0, 0));
  }

  static void assertSame(PretrainGraph g, Map<String, INDArray> feed) {
    OutAndGrad joint = g.sd().calculateGradientsAndOutputs(GradientGraph.placeholdersOf(g.sd(), feed), g.lossVariables(),
        g.trainable());
    Map<String, Double> losses = new HashMap<>();
    Map<String, INDArray> grads = new HashMap<>();
    for (GradientGraph p : g.perPassGraphs()) {
      GradientGraph.Result r = p.compute(feed, PretrainGraph::lossVariableOf);
      r.losses().forEach((k, v) -> losses.merge(k, v, Double::sum));
      Trainer.addInto(grads, g.tableGradients(r.gradients(), feed), 1);
    }
    assertEquals(new TreeSet<>(g.lossKeys()), new TreeSet<>(losses.keySet()));
    for (String k : g.lossKeys()) {
      double ref = joint.getOutputs().get(PretrainGraph.lossVariableOf(k)).getDouble(0);
      assertTrue(ref > 0, k + " is a real term: " + ref);
      assertEquals(ref, losses.get(k), 1e-5 * Math.abs(ref), k);
    }
    TreeSet<String> refVars = new TreeSet<>();
    joint.getGradients().forEach((n, a) -> {
      // a weight that only a zero-weighted term reads gets an exact 0 from the joint call and none per pass
      if (a != null && (grads.containsKey(n) || a.amaxNumber().doubleValue() != 0)) refVars.add(n);
    });
    assertEquals(refVars, new TreeSet<>(grads.keySet()), "the same weights receive a gradient");
    assertTrue(refVars.stream().anyMatch(n -> n.startsWith("distill.")), "KD projections are trained");
    for (String n : refVars) {
      INDArray ref = joint.getGradients().get(n);
      double scale = Math.max(1e-3, ref.amaxNumber().doubleValue());
      double diff = Transforms.abs(ref.sub(grads.get(n))).maxNumber().doubleValue();
      assertTrue(diff <= 1e-4 * scale, n + ": per-pass gradient differs from the joint one by " + diff + " (max |g| " + scale + ")");
    }
  }
}
