package org.m3ae.distill;

import org.m3ae.masking.MaskSource;
import org.m3ae.train.RunConfig;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.m3ae.data.pipeline.Batch;
import org.m3ae.masking.AttentionGuidedSampler;
import org.m3ae.data.pipeline.MimRemasker;
import org.m3ae.masking.PatchImportance;
import org.m3ae.train.GradientGraph;
import org.m3ae.train.PlanCache;
import org.m3ae.train.TrainTask;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One pre-training step's inputs (paper §3): the teacher's forward on the unmasked pair (KD targets), the
 * attention-guided progressive MIM mask (§3.3) from the chosen attention sources, fresh dropout masks, then the
 * student graph's MLM + MIM + ITM (+ KD) passes. Without a teacher the same task pre-trains a model from scratch
 * (KD off), e.g. the teacher itself.
 */
public final class DistillTask implements TrainTask {
  private final PretrainGraph graph;
  private final Teacher teacher;
  /** Where the attention-guided mask reads attention from (paper Table 7), or a plain random mask; r's schedule. */
  private final RunConfig.Mask mask;
  private final AttentionGuidedSampler sampler;
  private final int totalSteps;
  private final long seed;
  private PlanCache studentPlans; // the clean pass the attention-guided mask reads, per batch shape
  private final boolean perPass;
  private Map<String, org.m3ae.distill.features.OfflineFeatures> offline = Map.of();

  /**
   * @param mask the MIM mask: its attention source, the progressive schedule of r over {@code totalSteps} and the
   *     masked share (paper §3.3)
   * @param perPass one gradient call per pass ({@link PretrainGraph#perPassGraphs}) instead of one for all three
   */
  public DistillTask(PretrainGraph graph, Teacher teacher, RunConfig.Mask mask, int totalSteps, long seed, boolean perPass) {
    this.graph = graph;
    this.perPass = perPass;
    this.teacher = teacher;
    this.mask = mask;
    MaskSource source = mask.source();
    this.totalSteps = totalSteps;
    this.seed = seed;
    this.sampler = source == MaskSource.RANDOM ? null : new AttentionGuidedSampler(mask.ratio(), mask.rStart());
    if (source.needsTeacher() && teacher == null) {
      throw new IllegalArgumentException("mask source " + source + " needs a teacher");
    }
    if (teacher != null) {
      for (var p : graph.teacherPasses()) {
        if (!teacher.hasPass(p.name())) {
          throw new IllegalArgumentException("logit KD reads the teacher's '" + p.name() + "' pass, which its graph lacks: "
              + "build the teacher with PretrainGraph.teacherPasses() (Teacher.load(cfg, weights, passes))");
        }
      }
      teacher.request(graph.kdTargets().values());
      if (source.needsTeacher()) teacher.request(teacher.maskAttentionNames());
    }
  }

  /**
   * The offline teachers' features by teacher name (MMKD-CLIP, SPEC §10), one per teacher of the graph's
   * {@link PretrainGraph#features}: each step's rows are looked up by the batch's record ids.
   */
  public DistillTask withOfflineFeatures(Map<String, org.m3ae.distill.features.OfflineFeatures> byTeacher) {
    FeatureKdSpec spec = graph.features();
    if (spec == null) throw new IllegalArgumentException("offline features given to a graph without feature KD");
    for (FeatureKdSpec.TeacherFeatures t : spec.teachers()) {
      if (!byTeacher.containsKey(t.name())) throw new IllegalArgumentException("no offline features for teacher '" + t.name() + "'");
    }
    offline = Map.copyOf(byTeacher);
    return this;
  }

  public double r(int step) {
    return AttentionGuidedSampler.schedule(mask.rStart(), mask.rEnd(), step, totalSteps);
  }

  @Override
  public SameDiff sd() {
    return graph.sd();
  }

  @Override
  public List<String> trainable() {
    return graph.trainable();
  }

  @Override
  public List<GradientGraph> gradientGraphs() {
    return perPass ? graph.perPassGraphs() : TrainTask.super.gradientGraphs();
  }

  @Override
  public Map<String, INDArray> weightGradients(Map<String, INDArray> grads, Map<String, INDArray> feed) {
    return graph.tableGradients(grads, feed);
  }

  @Override
  public List<String> lossKeys() {
    return graph.lossKeys();
  }

  @Override
  public String lossVariable(String key) {
    return PretrainGraph.lossVariableOf(key);
  }

  @Override
  public Map<String, Double> stepMetrics(int step) {
    Map<String, Double> m = new LinkedHashMap<>();
    m.put("mask_r", sampler == null ? Double.NaN : r(step));
    return m;
  }

  @Override
  public Map<String, INDArray> feed(Batch batch, int step, int micro) {
    Map<String, INDArray> t = teacher == null ? null : teacher.forward(batch);
    if (sampler != null) {
      sampler.setR(r(step));
      float[][] scores = importance(batch, t);
      batch = MimRemasker.remask(batch, sampler, graph.graph().config().vision().numPatches(), scores,
          mix(seed, step, micro, 1));
    }
    return graph.trainingFeed(batch, t, offlineFeed(batch), new SplittableRandom(mix(seed, step, micro, 2)), placeholdersRead());
  }

  private java.util.Set<String> read;

  /** Placeholders any of the step's gradient graphs reads: masks of sites outside them are not drawn. */
  private synchronized java.util.Set<String> placeholdersRead() {
    if (read == null) {
      java.util.Set<String> r = new java.util.HashSet<>();
      for (GradientGraph g : gradientGraphs()) r.addAll(g.placeholdersRead(this::lossVariable));
      read = java.util.Set.copyOf(r);
    }
    return read;
  }

  /** The batch's rows of every offline teacher's features, by placeholder; a record without features is an error. */
  private Map<String, INDArray> offlineFeed(Batch batch) {
    FeatureKdSpec spec = graph.features();
    if (spec == null) return Map.of();
    if (offline.isEmpty()) throw new IllegalStateException("feature KD without offline features: call withOfflineFeatures");
    Map<String, INDArray> f = new LinkedHashMap<>();
    for (FeatureKdSpec.TeacherFeatures t : spec.teachers()) {
      var src = offline.get(t.name());
      for (var k : t.dims().keySet()) f.put(PretrainGraph.featurePlaceholder(t.name(), k), src.lookup(k, batch.ids(), batch.locations()));
    }
    return f;
  }

  /** Stage 1 of §3.3 on the unmasked pair, from the configured sources. */
  public float[][] importance(Batch batch, Map<String, INDArray> teacherOut) {
    INDArray textMask = batch.get(org.m3ae.data.pipeline.BatchKeys.TEXT_MASK);
    INDArray sUni = null, sMul = null, tUni = null, tMul = null;
    if (mask.source() == MaskSource.STUDENT || mask.source() == MaskSource.BOTH) {
      List<String> names = graph.maskAttentionNames();
      if (studentPlans == null) studentPlans = new PlanCache(graph.sd(), "student clean pass");
      // read at once, before the next step's call
      Map<String, INDArray> s = studentPlans.output(PretrainGraph.cleanFeed(batch), names);
      sUni = PatchImportance.uniModal(s.get(names.get(0)));
      sMul = PatchImportance.multiModal(s.get(names.get(1)), textMask);
    }
    if (mask.source().needsTeacher()) {
      List<String> names = teacher.maskAttentionNames();
      tUni = PatchImportance.uniModal(teacherOut.get(names.get(0)));
      tMul = PatchImportance.multiModal(teacherOut.get(names.get(1)), textMask);
    }
    return PatchImportance.combine(sUni, tUni, sMul, tMul);
  }

  public AttentionGuidedSampler sampler() {
    return sampler;
  }

  /** A seed for (run seed, step, micro-batch, purpose): stateless, so a resumed run draws the same numbers. */
  static long mix(long seed, int step, int micro, int purpose) {
    long h = seed * 0x9E3779B97F4A7C15L + step;
    h = (h ^ (h >>> 31)) * 0xBF58476D1CE4E5B9L + micro;
    h = (h ^ (h >>> 29)) * 0x94D049BB133111EBL + purpose;
    return h ^ (h >>> 32);
  }
}
