package org.m3ae.distill;

import org.m3ae.masking.MaskSource;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.m3ae.model.BuildOptions;
import org.m3ae.model.M3aeGraph;
import org.m3ae.model.PassSpec;
import org.m3ae.model.Stack;
import org.m3ae.train.RunConfig;
import org.m3ae.model.M3aeModel;
import org.m3ae.model.ModelConfig;
import org.m3ae.model.ModelConfigLoader;
import org.m3ae.testing.GradCheck;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Finite differences over the whole distillation objective as a run builds it (issue 18 §2): the student's MLM + MIM +
 * ITM, the hidden-state KD through the learned width projections (student 16 wide, teacher 32) and the attention KD on
 * head-averaged maps (1 head against 2), every term weighted, on one attention-guided pre-training feed. The graph is
 * {@link PretrainGraph}'s own, built in double precision; the teacher's outputs arrive as placeholders, as in a run.
 * The paper's literal form, EfficientVLM's (scores with padded keys zeroed, ×L_k, per-stream weights, MLM and ITM
 * logit KD at a temperature, 0.6·task + 0.4·KD) and the KL attention form are each checked.
 */
class DistillGradientCheckTest {
  static final ModelConfig TEACHER = ModelConfigLoader.parse(PretrainRunTest.MODEL.getBytes(), "micro");
  static final ModelConfig STUDENT = ModelConfigLoader.parse(PretrainGraphSplitTest.STUDENT.getBytes(), "micro-student");

  /** EfficientVLM's choices with every stream weighted differently, so that a mix-up of stacks would show. */
  static KdSpec efficientVlm() {
    Map<Stack, Double> att = new EnumMap<>(Stack.class);
    att.put(Stack.VISION, 0.5);
    att.put(Stack.TEXT, 2.0);
    att.put(Stack.FUSION_TEXT, 1.5);
    att.put(Stack.FUSION_IMAGE, 1.5);
    Map<Stack, Double> hid = new EnumMap<>(Stack.class);
    hid.put(Stack.VISION, 0.1);
    hid.put(Stack.TEXT, 1.0);
    hid.put(Stack.FUSION_TEXT, 2.0);
    hid.put(Stack.FUSION_IMAGE, 2.0);
    return KdSpec.LITERAL.withAttention(RunConfig.AttentionForm.SCORES, RunConfig.AttentionScale.KEYS).withWeights(att, hid)
        .withTemperature(2.0).withAlpha(0.4);
  }

  static final Map<String, Double> WEIGHTS = Map.of("mlm", 1.0, "mim", 0.5, "itm", 2.0, "hid", 3.0, "attn", 70.0);
  static final Map<String, Double> LOGIT_WEIGHTS = Map.of("mlm", 1.0, "mim", 0.5, "itm", 2.0, "hid", 3.0, "attn", 0.7,
      "mlm_kd", 1.5, "itm_kd", 2.5);

  @Test
  void everyWeightOfTheDistillationObjective() throws Exception {
    PretrainGraph g = graph(WEIGHTS, KdSpec.LITERAL);
    Map<String, INDArray> feedD = feed(g);
    SameDiff sd = g.sd();
    for (String term : new String[] {"loss/hid", "loss/attn"}) {
      double v = sd.output(feedD, term).get(term).getDouble(0);
      assertTrue(v > 0, term + " is a real term: " + v);
    }
    GradCheck.Result r = GradCheck.check(sd, feedD, "loss/total", 1, 23, 1e-6, 1e-4, 1e-9);
    assertTrue(r.nonZero() > r.checked() / 2, "most sampled gradients are non-zero: " + r);
    assertTrue(sd.variables().stream().anyMatch(x -> x.name().startsWith("distill.")), "the width projections are checked");
    System.out.println("distillation objective: " + r);
  }

  /**
   * EfficientVLM's form end to end: attention scores (padded keys zeroed) × L_k, per-stream attention and hidden
   * weights, KL at T = 2 on the MLM head's masked positions and on the ITM head, and total = 0.6·task + 0.4·KD, which
   * is also recomputed here from the terms' values.
   */
  @Test
  void everyWeightOfTheEfficientVlmObjective() throws Exception {
    PretrainGraph g = graph(LOGIT_WEIGHTS, efficientVlm());
    assertEquals(List.of("loss_mlm", "loss_mlm_kd", "loss_mim", "loss_itm", "loss_hid", "loss_attn", "loss_itm_kd", "loss_total"),
        g.lossKeys());
    Map<String, INDArray> feedD = feed(g);
    assertTrue(feedD.containsKey("kd/mlm/mlm.logits") && feedD.containsKey("kd/itm/itm.logits"), feedD.keySet().toString());
    assertTrue(feedD.keySet().stream().anyMatch(k -> k.startsWith("kd/") && k.contains("_scores.")), "teacher scores fed");
    SameDiff sd = g.sd();
    Map<String, Double> v = new HashMap<>();
    for (String k : g.lossKeys()) {
      String name = PretrainGraph.lossVariableOf(k);
      v.put(k, sd.output(feedD, name).get(name).getDouble(0));
      assertTrue(v.get(k) > 0, k + " is a real term: " + v.get(k));
    }
    double task = 1.0 * v.get("loss_mlm") + 0.5 * v.get("loss_mim") + 2.0 * v.get("loss_itm");
    double kd = 3.0 * v.get("loss_hid") + 0.7 * v.get("loss_attn") + 1.5 * v.get("loss_mlm_kd") + 2.5 * v.get("loss_itm_kd");
    assertEquals(0.6 * task + 0.4 * kd, v.get("loss_total"), 1e-12 * v.get("loss_total"), "total = (1 − α)·task + α·KD");

    GradCheck.Result r = GradCheck.check(sd, feedD, "loss/total", 1, 29, 1e-6, 1e-4, 1e-9);
    assertTrue(r.nonZero() > r.checked() / 2, "most sampled gradients are non-zero: " + r);
    System.out.println("EfficientVLM distillation objective: " + r);
  }

  /** The KL attention form, on its own term, for the weights that shape attention maps (queries and keys). */
  @Test
  void attentionKlTerm() throws Exception {
    PretrainGraph g = graph(WEIGHTS, KdSpec.LITERAL.withAttention(RunConfig.AttentionForm.KL, RunConfig.AttentionScale.NONE));
    Map<String, INDArray> feedD = feed(g);
    SameDiff sd = g.sd();
    List<String> vars = new ArrayList<>();
    for (String n : g.trainable()) {
      if (n.startsWith("mim_head")) continue; // the MIM decoder's attention does not reach loss/attn
      if (n.matches(".*(query|key|q_proj|k_proj)\\.(weight|bias)") || n.startsWith("vision_encoder.conv1")) vars.add(n);
    }
    assertTrue(vars.size() >= 8, vars.toString());
    assertTrue(sd.output(feedD, "loss/attn").get("loss/attn").getDouble(0) > 0, "a real term");
    GradCheck.Result r = GradCheck.check(sd, feedD, "loss/attn", vars, 3, 31, 1e-6, 1e-4, 1e-9);
    assertTrue(r.nonZero() > r.checked() / 2, "most sampled gradients are non-zero: " + r);
    System.out.println("KL attention term: " + r);
  }

  static PretrainGraph graph(Map<String, Double> weights, KdSpec kd) {
    return new PretrainGraph(STUDENT, TEACHER, KdMapping.of(TEACHER, STUDENT, Map.of()), weights, false, false,
        DataType.DOUBLE, null, kd);
  }

  /** A teacher with the passes the graph's logit KD reads (random weights: a gradient check needs no trained one). */
  static Teacher teacher(PretrainGraph g) {
    M3aeGraph t = M3aeModel.build(TEACHER, BuildOptions.defaults());
    for (PassSpec p : g.teacherPasses()) t.addPass(p);
    return Teacher.of(t);
  }

  /** One attention-guided pre-training feed, cast to double. */
  static Map<String, INDArray> feed(PretrainGraph g) throws Exception {
    DistillTask task = new DistillTask(g, teacher(g), RunConfig.Mask.of(MaskSource.BOTH), 10, 5, false);
    Map<String, INDArray> feed = task.feed(SyntheticBatch.first(STUDENT.vision().imageSize(), 11), 0, 0);
    Map<String, INDArray> feedD = new HashMap<>();
    feed.forEach((k, a) -> feedD.put(k, a.dataType() == DataType.FLOAT ? a.castTo(DataType.DOUBLE) : a));
    return feedD;
  }
}
