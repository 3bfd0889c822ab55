package org.m3ae.distill;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.m3ae.data.pipeline.Batch;
import org.m3ae.model.BuildOptions;
import org.m3ae.model.M3aeGraph;
import org.m3ae.model.M3aeModel;
import org.m3ae.model.ModelConfig;
import org.m3ae.model.Names;
import org.m3ae.model.PassSpec;
import org.m3ae.train.PlanCache;
import org.m3ae.weights.LoadReport;
import org.m3ae.weights.TensorSource;
import org.m3ae.weights.TensorSources;
import org.m3ae.weights.WeightLoader;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The frozen teacher: an inference graph (no dropout, no gradients) run once per step on the unmasked pair. It
 * returns only the tensors the student's KD terms and the attention-guided mask ask for.
 */
public final class Teacher {
  private final ModelConfig cfg;
  private final M3aeGraph graph;
  private final LoadReport report;
  private String[] outputs = new String[0];
  private PlanCache plans;

  private Teacher(ModelConfig cfg, M3aeGraph graph, LoadReport report) {
    this.cfg = cfg;
    this.graph = graph;
    this.report = report;
  }

  /** Builds the teacher's inference graph and loads its weights (graph-layout safetensors, .sdz, or M3AE keys). */
  public static Teacher load(ModelConfig cfg, Path weights) {
    return load(cfg, weights, List.of());
  }

  /**
   * As above, with further inference passes on the same weights ({@link PretrainGraph#teacherPasses}: the MLM and ITM
   * passes whose logits the logit KD terms read). They are added before the weights are read so that their heads'
   * weights exist to be loaded; a checkpoint without those heads is refused.
   */
  public static Teacher load(ModelConfig cfg, Path weights, List<PassSpec> extraPasses) {
    M3aeGraph g = M3aeModel.build(cfg, BuildOptions.defaults());
    for (PassSpec p : extraPasses) g.addPass(p);
    LoadReport r;
    try (TensorSource src = TensorSources.open(weights)) {
      r = WeightLoader.load(g.sd(), src, TensorSources.keyMapFor(src));
    }
    long backboneMissing = r.missing().keySet().stream()
        .filter(n -> !n.startsWith("mlm_head") && !n.startsWith("mim_head") && !n.startsWith("itm_head")).count();
    if (backboneMissing > 0) {
      throw new IllegalArgumentException(weights + ": the teacher checkpoint lacks " + backboneMissing
          + " backbone tensors (e.g. " + r.missing().keySet().iterator().next() + "); is it a checkpoint of "
          + cfg.name() + "?");
    }
    for (PassSpec p : extraPasses) {
      for (PassSpec.Head h : p.heads()) {
        String head = h.name().toLowerCase() + "_head";
        var missing = r.missing().keySet().stream().filter(n -> n.startsWith(head)).findFirst();
        if (missing.isPresent()) {
          throw new IllegalArgumentException(weights + ": logit KD on the " + h + " head needs the teacher's trained "
              + head + ", but the checkpoint lacks " + missing.get() + " (set objectives." + h.name().toLowerCase()
              + "_kd: 0)");
        }
      }
    }
    return new Teacher(cfg, g, r);
  }

  /** A teacher whose graph already holds its weights (tests, benchmarks). */
  public static Teacher of(M3aeGraph g) {
    return new Teacher(g.config(), g, null);
  }

  public ModelConfig config() {
    return cfg;
  }

  public M3aeGraph graph() {
    return graph;
  }

  public LoadReport report() {
    return report;
  }

  /** Declares which teacher tensors each forward must return. */
  public void request(Iterable<String> names) {
    Set<String> all = new LinkedHashSet<>(List.of(outputs));
    for (String n : names) all.add(n);
    outputs = all.toArray(new String[0]);
  }

  /** Names of the teacher tensors the attention-guided mask reads (last ViT layer, last text→image cross-attn). */
  public List<String> maskAttentionNames() {
    List<String> n = new ArrayList<>();
    n.add(Names.visionAttn(cfg.vision().encoder().layers() - 1));
    n.add(Names.fusionCrossAttn(Names.TEXT, cfg.fusion().layers() - 1));
    return n;
  }

  /**
   * The requested teacher tensors for a batch, through a replayed plan per batch shape ({@link PlanCache}): the
   * arrays belong to the plan and are overwritten by the next forward, so read or copy them before that (a training
   * step feeds them to its own graphs at once).
   */
  public Map<String, INDArray> forward(Batch b) {
    if (plans == null) plans = new PlanCache(graph.sd(), "teacher forward"); // one plan per shape and output list
    Map<String, INDArray> feed = PretrainGraph.cleanFeed(b);
    for (String pass : graph.passes().keySet()) if (!pass.isEmpty()) feed.putAll(PretrainGraph.teacherPassFeed(pass, b));
    return plans.output(feed, List.of(outputs));
  }

  /** Whether the teacher's graph has an inference pass named {@code name} ("" is the clean pass). */
  public boolean hasPass(String name) {
    return graph.passes().containsKey(name);
  }
}
