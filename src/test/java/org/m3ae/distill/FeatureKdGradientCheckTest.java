package org.m3ae.distill;

import org.m3ae.masking.MaskSource;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.m3ae.train.GradientFunction;
import org.m3ae.data.pipeline.Batch;
import org.m3ae.model.BuildOptions;
import org.m3ae.model.M3aeModel;
import org.m3ae.model.ModelConfig;
import org.m3ae.model.ModelConfigLoader;
import org.m3ae.testing.GradCheck;
import org.m3ae.train.FeatureKind;
import org.m3ae.train.GradientGraph;
import org.m3ae.train.RunConfig;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * MMKD-CLIP's feature terms inside the pre-training objective, together with M3AE-Distill's hidden and attention KD:
 * a text-only teacher (5 wide: FD on the student's text, ICL student image → teacher text) and an M3AE-like teacher
 * (text and image 6 wide, joint 12: FD on all three, ICL both ways). Checked three ways: the per-teacher terms against
 * the same formulas in plain Java on the graph's own student features and projections; finite differences over the
 * whole weighted objective in double precision; and the per-pass backward against the joint one.
 */
class FeatureKdGradientCheckTest {
  static final Map<String, Double> WEIGHTS = Map.of("mlm", 1.0, "mim", 0.5, "itm", 2.0, "hid", 3.0, "attn", 70.0, "fd", 40.0,
      "icl", 0.7);

  static FeatureKdSpec spec(RunConfig.StudentFeatures student) {
    Map<FeatureKind, Integer> lm = new EnumMap<>(FeatureKind.class);
    lm.put(FeatureKind.TEXT, 5);
    Map<FeatureKind, Integer> mt = new EnumMap<>(FeatureKind.class);
    mt.put(FeatureKind.TEXT, 6);
    mt.put(FeatureKind.IMAGE, 6);
    mt.put(FeatureKind.JOINT, 12);
    return new FeatureKdSpec(List.of(new FeatureKdSpec.TeacherFeatures("lm", 0.5, lm), new FeatureKdSpec.TeacherFeatures("mt", 2.0, mt)),
        student);
  }

  /** Random teacher features for the batch, by placeholder. */
  static Map<String, INDArray> offline(FeatureKdSpec spec, int rows, DataType dt) {
    Nd4j.getRandom().setSeed(17);
    Map<String, INDArray> f = new LinkedHashMap<>();
    for (var t : spec.teachers()) {
      for (var e : t.dims().entrySet()) f.put(PretrainGraph.featurePlaceholder(t.name(), e.getKey()), Nd4j.randn(dt, rows, e.getValue()));
    }
    return f;
  }

  static Map<String, INDArray> feed(PretrainGraph g, FeatureKdSpec spec, boolean perPass, DataType dt) throws Exception {
    ModelConfig teacherCfg = ModelConfigLoader.parse(PretrainRunTest.MODEL.getBytes(), "micro");
    Teacher teacher = Teacher.of(M3aeModel.build(teacherCfg, BuildOptions.defaults()));
    DistillTask task = new DistillTask(g, teacher, RunConfig.Mask.of(MaskSource.BOTH), 10, 5, perPass);
    Batch batch = SyntheticBatch.first(g.graph().config().vision().imageSize(), 11);
    Map<String, INDArray> t = teacher.forward(batch);
    batch = org.m3ae.data.pipeline.MimRemasker.remask(batch, task.sampler(), g.graph().config().vision().numPatches(),
        task.importance(batch, t), 3);
    Map<String, INDArray> f = g.trainingFeed(batch, t, offline(spec, batch.size(), DataType.FLOAT), null);
    Map<String, INDArray> out = new HashMap<>();
    f.forEach((k, a) -> out.put(k, a.dataType() == DataType.FLOAT && dt == DataType.DOUBLE ? a.castTo(DataType.DOUBLE) : a));
    return out;
  }

  static PretrainGraph graph(FeatureKdSpec spec, boolean sparse, DataType dt) {
    ModelConfig teacherCfg = ModelConfigLoader.parse(PretrainRunTest.MODEL.getBytes(), "micro");
    ModelConfig studentCfg = ModelConfigLoader.parse(PretrainGraphSplitTest.STUDENT.getBytes(), "micro-student");
    return new PretrainGraph(studentCfg, teacherCfg, KdMapping.of(teacherCfg, studentCfg, Map.of()), WEIGHTS, false, sparse, dt, spec);
  }

  @Test
  void termsEqualTheFormulasRecomputedInJava() throws Exception {
    FeatureKdSpec spec = spec(RunConfig.StudentFeatures.UNIMODAL);
    PretrainGraph g = graph(spec, false, DataType.DOUBLE);
    Map<String, INDArray> feed = feed(g, spec, false, DataType.DOUBLE);
    SameDiff sd = g.sd();
    Map<String, INDArray> o = sd.output(feed, "feat/text.out", "feat/vision.out", "feat/joint", "loss/fd/lm", "loss/icl/lm",
        "loss/fd/mt", "loss/icl/mt", "loss/fd", "loss/icl");
    double[][] text = row0(o.get("feat/text.out")), image = row0(o.get("feat/vision.out")), joint = toArr(o.get("feat/joint"));

    // teacher lm: FD on text; ICL student image → teacher text only
    double[][] lmText = unit(feat(feed, "fkd/lm/text"));
    double[][] sText = proj(sd, "distill.fkd.lm.text.proj", text), sImage = proj(sd, "distill.fkd.lm.image.proj", image);
    double fdLm = mse(sText, lmText);
    double s = sd.getArrForVarName("distill.fkd.lm.logit_scale").getDouble(0);
    assertEquals(Math.log(1 / 0.07), s, 1e-12, "ICL scale starts at ln(1/0.07)");
    double iclLm = ce(sImage, lmText, s);
    assertEquals(fdLm, o.get("loss/fd/lm").getDouble(0), 1e-10);
    assertEquals(iclLm, o.get("loss/icl/lm").getDouble(0), 1e-10);

    // teacher mt: FD on text, image and joint; ICL both ways, averaged
    double[][] tT = unit(feat(feed, "fkd/mt/text")), tI = unit(feat(feed, "fkd/mt/image")), tJ = unit(feat(feed, "fkd/mt/joint"));
    double[][] mT = proj(sd, "distill.fkd.mt.text.proj", text), mI = proj(sd, "distill.fkd.mt.image.proj", image),
        mJ = proj(sd, "distill.fkd.mt.joint.proj", joint);
    double fdMt = mse(mT, tT) + mse(mI, tI) + mse(mJ, tJ);
    double s2 = sd.getArrForVarName("distill.fkd.mt.logit_scale").getDouble(0);
    double iclMt = (ce(mI, tT, s2) + ce(mT, tI, s2)) / 2;
    assertEquals(fdMt, o.get("loss/fd/mt").getDouble(0), 1e-10);
    assertEquals(iclMt, o.get("loss/icl/mt").getDouble(0), 1e-10);

    // teacher weights 0.5 and 2 inside the sums
    assertEquals(0.5 * fdLm + 2 * fdMt, o.get("loss/fd").getDouble(0), 1e-10);
    assertEquals(0.5 * iclLm + 2 * iclMt, o.get("loss/icl").getDouble(0), 1e-10);
    assertEquals(List.of("loss_mlm", "loss_mim", "loss_itm", "loss_hid", "loss_attn", "loss_fd", "loss_icl", "loss_fd_lm", "loss_icl_lm",
        "loss_fd_mt", "loss_icl_mt", "loss_total"), g.lossKeys());
    // the total adds them with the objective weights fd = 40 and icl = 0.7
    Map<String, INDArray> all = sd.output(feed, g.lossVariables().toArray(new String[0]));
    double total = 0;
    for (String k : List.of("mlm", "mim", "itm", "hid", "attn", "fd", "icl")) total += WEIGHTS.get(k) * all.get("loss/" + k).getDouble(0);
    assertEquals(total, all.get("loss/total").getDouble(0), 1e-9);
  }

  /**
   * An ICL-only objective against a text-only teacher (the image tower trained against frozen caption features, as in
   * LiT) builds neither the FD terms nor the text feature's projection, so its one pass reads only the vision tower:
   * the gradient graph reaches no text or fusion weight, and the ICL term is still the formula.
   */
  @Test
  void aZeroWeightedTermIsNotBuiltAndAnIclOnlyPassNeverReachesTheTextTower() throws Exception {
    Map<FeatureKind, Integer> lm = new EnumMap<>(FeatureKind.class);
    lm.put(FeatureKind.TEXT, 5);
    FeatureKdSpec spec = new FeatureKdSpec(List.of(new FeatureKdSpec.TeacherFeatures("lm", 1.0, lm)),
        RunConfig.StudentFeatures.UNIMODAL);
    ModelConfig cfg = ModelConfigLoader.parse(PretrainGraphSplitTest.STUDENT.getBytes(), "micro-student");
    Map<String, Double> weights = Map.of("mlm", 0.0, "mim", 0.0, "itm", 0.0, "fd", 0.0, "icl", 1.0);
    PretrainGraph g = new PretrainGraph(cfg, null, null, weights, false, true, DataType.DOUBLE, spec);
    assertEquals(List.of(PretrainGraph.FEAT), g.activePasses());
    assertEquals(List.of("loss_icl", "loss_icl_lm", "loss_total"), g.lossKeys());
    SameDiff sd = g.sd();
    assertTrue(sd.hasVariable("distill.fkd.lm.image.proj.weight"));
    assertFalse(sd.hasVariable("distill.fkd.lm.text.proj.weight"), "no projection for the FD term weighted 0");
    assertFalse(sd.hasVariable("loss/fd"));

    DistillTask task = new DistillTask(g, null, RunConfig.Mask.of(MaskSource.RANDOM), 10, 5, true);
    GradientGraph pass = task.gradientGraphs().get(0);
    GradientFunction.build(pass.sd());
    List<String> reached = pass.trainable().stream().filter(n -> pass.sd().getVariable(n).getGradient() != null).toList();
    assertTrue(reached.stream().anyMatch(n -> n.startsWith("vision_encoder")), reached.toString());
    assertTrue(reached.contains("distill.fkd.lm.image.proj.weight") && reached.contains("distill.fkd.lm.logit_scale"),
        reached.toString());
    assertEquals(List.of(), reached.stream().filter(n -> n.startsWith("language_encoder") || n.startsWith("multi_modal"))
        .toList(), "weights the ICL-only pass's gradient reaches");

    // With dropout on (text and fusion have sites here, vision none), the pass reads no mask: none is drawn
    PretrainGraph gd = new PretrainGraph(cfg, null, null, weights, true, true, DataType.FLOAT, spec);
    DistillTask td = new DistillTask(gd, null, RunConfig.Mask.of(MaskSource.RANDOM), 10, 5, true);
    List<String> sites = gd.graph().dropout().sites().stream().map(org.m3ae.model.DropoutSites.Site::placeholder).toList();
    assertTrue(sites.size() >= 4, sites.toString());
    java.util.Set<String> read = td.gradientGraphs().get(0).placeholdersRead(td::lossVariable);
    assertEquals(java.util.Set.of("feat/image", "fkd/lm/text"), read);
    Batch b0 = SyntheticBatch.first(cfg.vision().imageSize(), 11);
    Map<String, INDArray> fd = gd.trainingFeed(b0, null, offline(spec, b0.size(), DataType.FLOAT), new java.util.SplittableRandom(3), read);
    for (String site : sites) {
      INDArray m = fd.get(site);
      assertEquals(m.length(), m.sumNumber().doubleValue(), 0.0, site + ": an unread site is fed ones, not a drawn mask");
    }
    Batch batch = SyntheticBatch.first(cfg.vision().imageSize(), 11);
    Map<String, INDArray> feed = new HashMap<>(GradientGraph.placeholdersOf(sd,
        g.trainingFeed(batch, null, offline(spec, batch.size(), DataType.FLOAT), null)));
    feed.replaceAll((k, a) -> a.dataType() == DataType.FLOAT ? a.castTo(DataType.DOUBLE) : a);
    Map<String, INDArray> o = sd.output(feed, "feat/vision.out", "loss/icl/lm", "loss/total");
    double[][] sImage = proj(sd, "distill.fkd.lm.image.proj", row0(o.get("feat/vision.out")));
    double icl = ce(sImage, unit(feat(feed, "fkd/lm/text")), Math.log(1 / 0.07));
    assertEquals(icl, o.get("loss/icl/lm").getDouble(0), 1e-10);
    assertEquals(icl, o.get("loss/total").getDouble(0), 1e-10);
  }

  @Test
  void everyWeightTheFeatureTermsReachMatchesFiniteDifferences() throws Exception {
    for (RunConfig.StudentFeatures student : RunConfig.StudentFeatures.values()) {
      FeatureKdSpec spec = spec(student);
      PretrainGraph g = graph(spec, false, DataType.DOUBLE);
      Map<String, INDArray> feed = feed(g, spec, false, DataType.DOUBLE);
      SameDiff sd = g.sd();
      // fd + icl as weighted in loss/total (whose linear combination the test above checks); only the feat pass runs,
      // the other terms and their weights are DistillGradientCheckTest's
      sd.getVariable("loss/fd").mul(WEIGHTS.get("fd")).add(sd.getVariable("loss/icl").mul(WEIGHTS.get("icl"))).rename("test/fkd");
      List<String> fkd = g.trainable().stream().filter(n -> n.startsWith("distill.fkd.")).toList();
      assertEquals(5 * 2 + 2, fkd.size(), fkd.toString()); // 5 projections (weight, bias), 2 logit scales
      GradCheck.Result proj = GradCheck.check(sd, feed, "test/fkd", fkd, 2, 29, 1e-6, 1e-5, 1e-9);
      // the student weights the terms reach (each evaluation runs the feat pass: sampled to keep the test short):
      // the two encoders' for unimodal features, the fusion layers' and poolers' for fused ones
      List<String> reached = g.trainable().stream().filter(n -> student == RunConfig.StudentFeatures.UNIMODAL
          ? n.startsWith("language_encoder") || n.startsWith("vision_encoder") : n.startsWith("multi_modal")).toList();
      List<String> sample = java.util.stream.IntStream.range(0, reached.size()).filter(i -> i % 2 == 0).mapToObj(reached::get).toList();
      GradCheck.Result backbone = GradCheck.check(sd, feed, "test/fkd", sample, 1, 23, 1e-6, 1e-4, 1e-9);
      assertTrue(backbone.checked() > 10, backbone.toString());
      System.out.println("feature KD (" + student + "): projections and scales " + proj + "; student weights " + backbone);
    }
  }

  @Test
  void perPassGraphsAddUpToTheJointObjective() throws Exception {
    FeatureKdSpec spec = spec(RunConfig.StudentFeatures.UNIMODAL);
    PretrainGraph g = graph(spec, true, DataType.FLOAT);
    ModelConfig teacherCfg = ModelConfigLoader.parse(PretrainRunTest.MODEL.getBytes(), "micro");
    DistillTask task = new DistillTask(g, Teacher.of(M3aeModel.build(teacherCfg, BuildOptions.defaults())),
        RunConfig.Mask.of(MaskSource.BOTH), 10, 5, true);
    assertEquals(List.of(PretrainGraph.MLM, PretrainGraph.MIM, PretrainGraph.ITM, PretrainGraph.FEAT), g.activePasses());
    for (GradientGraph p : task.gradientGraphs()) GradientFunction.build(p.sd());
    GradientFunction.build(g.sd());
    Map<String, INDArray> feed = feed(g, spec, true, DataType.FLOAT);
    PretrainGraphSplitTest.assertSame(g, feed);
  }

  private static double[][] feat(Map<String, INDArray> feed, String k) {
    return toArr(feed.get(k));
  }

  private static double[][] toArr(INDArray a) {
    return a.castTo(DataType.DOUBLE).toDoubleMatrix();
  }

  /** Token 0 of [B, L, D]. */
  private static double[][] row0(INDArray h) {
    double[][] out = new double[(int) h.size(0)][(int) h.size(2)];
    for (int b = 0; b < out.length; b++) for (int d = 0; d < out[b].length; d++) out[b][d] = h.getDouble(b, 0, d);
    return out;
  }

  private static double[][] proj(SameDiff sd, String scope, double[][] x) {
    double[][] w = toArr(sd.getArrForVarName(scope + ".weight"));
    double[] bias = sd.getArrForVarName(scope + ".bias").castTo(DataType.DOUBLE).toDoubleVector();
    double[][] y = new double[x.length][bias.length];
    for (int i = 0; i < x.length; i++) {
      for (int j = 0; j < bias.length; j++) {
        double v = bias[j];
        for (int k = 0; k < w.length; k++) v += x[i][k] * w[k][j];
        y[i][j] = v;
      }
    }
    return unit(y);
  }

  private static double[][] unit(double[][] x) {
    double[][] y = new double[x.length][];
    for (int i = 0; i < x.length; i++) {
      double n = 0;
      for (double v : x[i]) n += v * v;
      n = Math.sqrt(n);
      y[i] = new double[x[i].length];
      for (int j = 0; j < x[i].length; j++) y[i][j] = x[i][j] / n;
    }
    return y;
  }

  private static double mse(double[][] a, double[][] b) {
    double s = 0;
    int n = 0;
    for (int i = 0; i < a.length; i++) for (int j = 0; j < a[i].length; j++, n++) s += (a[i][j] - b[i][j]) * (a[i][j] - b[i][j]);
    return s / n;
  }

  /** CE(s·A·Bᵀ, arange), mean over rows. */
  private static double ce(double[][] a, double[][] b, double s) {
    double total = 0;
    for (int i = 0; i < a.length; i++) {
      double[] z = new double[b.length];
      double max = Double.NEGATIVE_INFINITY;
      for (int j = 0; j < b.length; j++) {
        double d = 0;
        for (int k = 0; k < a[i].length; k++) d += a[i][k] * b[j][k];
        z[j] = s * d;
        max = Math.max(max, z[j]);
      }
      double sum = 0;
      for (double v : z) sum += Math.exp(v - max);
      total += max + Math.log(sum) - z[i];
    }
    return total / a.length;
  }
}
