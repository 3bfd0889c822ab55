package org.m3ae.distill;

import org.m3ae.masking.MaskSource;
import java.io.PrintStream;
import java.nio.file.Path;
import java.nio.file.Files;
import org.m3ae.weights.KeyMap;
import org.m3ae.model.ModelPart;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.m3ae.data.BadRecordPolicy;
import org.m3ae.data.config.PipelineConfig;
import org.m3ae.data.config.PipelineLoader;
import org.m3ae.data.pipeline.BatchOptions;
import org.m3ae.data.pipeline.DataPipeline;
import org.m3ae.data.text.TextTokenizer;
import org.m3ae.masking.RandomPatchMaskSampler;
import org.m3ae.model.BuildOptions;
import org.m3ae.model.M3aeGraph;
import org.m3ae.model.M3aeModel;
import org.m3ae.model.ModelConfig;
import org.m3ae.model.PassSpec;
import org.m3ae.model.Stack;
import org.m3ae.train.AdamW;
import org.m3ae.train.BatchStream;
import org.m3ae.train.CheckpointListener;
import org.m3ae.train.Checkpoints;
import org.m3ae.distill.features.OfflineFeatures;
import org.m3ae.train.FeatureKind;
import org.m3ae.train.LossTerm;
import org.m3ae.train.MetricsJsonl;
import org.m3ae.train.Optimization;
import org.m3ae.train.ProgressListener;
import org.m3ae.train.RunConfig;
import org.m3ae.train.RunDir;
import org.m3ae.train.StepMetrics;
import org.m3ae.train.Trainer;
import org.m3ae.train.TrainingListener;
import org.m3ae.weights.GraphKeyMap;
import org.m3ae.weights.GraphWeights;
import org.m3ae.weights.LayerMapping;
import org.m3ae.weights.LoadReport;
import org.m3ae.data.text.RobertaIdsGuard;
import org.m3ae.weights.StudentInit;
import org.m3ae.weights.TensorSource;
import org.m3ae.weights.TensorSources;
import org.m3ae.weights.WeightImport;
import org.m3ae.weights.WeightLoader;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Sets up and runs one pre-training run from its {@link RunConfig}: teacher, student graph, data stream, optimiser,
 * listeners, resume. Writes the {@link RunDir} layout: {@code run.json}, {@code metrics.jsonl}, {@code checkpoints/},
 * {@code bad-records.json}, and at the end {@code model.safetensors} (all weights, graph names) plus {@code model.sdz}
 * (the inference graph, loadable by any DL4J application) when it fits SameDiff's size limit.
 */
public final class PretrainRun {
  /** What a finished run leaves behind. */
  public record Result(Path runDir, int steps, StepMetrics last, Path weights, Path sdz, double seconds,
      long parameters) {}

  private PretrainRun() {}

  public static Result run(RunConfig rc, Path configFile, Path runDir, Integer stepsOverride, boolean resume,
      List<TrainingListener> extra, PrintStream out) {
    long t0 = System.nanoTime();
    RunDir run = new RunDir(runDir);
    int steps = stepsOverride != null ? stepsOverride : rc.train().steps();
    Optimization opt = rc.train().optimization();
    long seed = opt.seed();
    ModelConfig model = ModelConfig.load(Path.of(rc.model()));
    ModelConfig teacherCfg = rc.teacher() == null ? null : ModelConfig.load(Path.of(rc.teacher().model()));
    MaskSource source = rc.mask().source();
    boolean needTeacher = rc.kdEnabled() || source.needsTeacher() || rc.studentInit() == RunConfig.StudentInit.TEACHER;

    KdMapping mapping = announce(rc, model, teacherCfg, source, out);
    Map<String, OfflineFeatures> offline = loadOfflineFeatures(rc, out);
    FeatureKdSpec features = offline.isEmpty() ? null : featureSpec(rc, offline);
    PretrainGraph graph = graph(rc, model, teacherCfg, mapping, features, out);

    try (DataPipeline data = openData(rc, model)) {
      // before the (long) teacher load: its embeddings must be indexed by the data's ids
      if (needTeacher) RobertaIdsGuard.checkWeights(Path.of(rc.teacher().weights()), data.tokenizer());
      for (var e : offline.entrySet()) checkCoverage(e.getValue(), data, rc.data().split());
      Teacher teacher = needTeacher ? Teacher.load(teacherCfg, Path.of(rc.teacher().weights()), graph.teacherPasses()) : null;
      BatchOptions opts = BatchOptions.pretraining().withMlm(0.15, rc.train().mlmMasking())
          .withMim(new RandomPatchMaskSampler(rc.mask().ratio())).withItm(rc.train().itmNegatives(), rc.train().itmCandidates())
          .withPatchSize(model.vision().patchSize());
      try (BatchStream stream = new BatchStream(data, rc.data().split(), opts, rc.train().batchSize(), seed, rc.data().workers())) {
        Checkpoints ckpts = run.checkpoints(rc.train().keepCheckpoints());
        AdamW adam = new AdamW(opt.adamW());
        Path resumedFrom = resume
            ? ckpts.resume(dir -> loadWeights(graph.graph(), dir.resolve(Checkpoints.MODEL)), adam, graph.trainable(), stream, out)
            : null;
        int start = resumedFrom == null ? 0 : Checkpoints.readState(resumedFrom).nextStep();
        if (resumedFrom == null && rc.studentInit() == RunConfig.StudentInit.TEACHER) {
          initFromTeacher(graph.graph(), Path.of(rc.teacher().weights()), teacherCfg, out);
        }
        if (resumedFrom == null && rc.init() != null) initFrom(graph.graph(), rc.init(), data.tokenizer(), out);
        writeRunJson(run, rc, configFile, model);

        DistillTask task = new DistillTask(graph, teacher, rc.mask(), steps, seed,
            rc.train().backward() == RunConfig.Backward.PER_PASS);
        if (features != null) task.withOfflineFeatures(offline);
        // Order matters: a step's metrics line, then its checkpoint, then the progress bar and the caller's listeners
        // (which may stop the run: the checkpoint of that step exists by then).
        LastStep lastStep = new LastStep();
        CheckpointListener checkpoints = new CheckpointListener(ckpts, rc.train().checkpointEvery(), steps,
            next -> new Checkpoints.State(next, stream.epoch(), stream.index(), seed, rc.name()),
            dir -> {
              GraphWeights.write(graph.sd(), dir.resolve(Checkpoints.MODEL), model.name());
              adam.save(dir.resolve(Checkpoints.OPTIMIZER));
            },
            List.of(configFile, Path.of(rc.model())), extra, resumedFrom);
        List<TrainingListener> listeners = new ArrayList<>(List.of(new MetricsJsonl(runDir), lastStep, checkpoints,
            new ProgressListener(rc.name(), Math.max(1, steps / 20))));
        listeners.addAll(extra);
        Trainer trainer = new Trainer(task, stream::next, Trainer.Settings.of(opt, steps, rc.train().gcEvery()), adam, listeners,
            checkpoints::last);
        if (start < steps) {
          trainer.run(runDir, start);
          out.println("executor: " + trainer.executorReport());
        }
        else out.printf("already at step %d of %d: nothing to run%n", start, steps);
        run.writeSkipReport(data.report());
        if (data.report().total(rc.data().split()) > 0) out.println(data.report().summary());

        Path weightsFile = run.writeWeights(graph.sd(), model.name());
        Path sdz = run.saveInferenceGraph(inferenceGraph(graph.graph()).sd());
        long params = graph.trainable().stream().mapToLong(n -> graph.sd().getVariable(n).getArr().length()).sum();
        return new Result(runDir, steps, lastStep.metrics, weightsFile, sdz, (System.nanoTime() - t0) / 1e9, params);
      }
    }
  }

  /** Prints what the run does; the layer mapping of distillation (null without a teacher). */
  static KdMapping announce(RunConfig rc, ModelConfig model, ModelConfig teacherCfg, MaskSource source,
      PrintStream out) {
    if (teacherCfg == null) {
      out.printf("%s: pre-training %s from scratch (no teacher, mask %s)%n", rc.name(), model.name(), source.name().toLowerCase());
      return null;
    }
    KdMapping mapping = KdMapping.of(teacherCfg, model, overrides(rc));
    out.printf("%s: distilling %s from %s (KD %s, mask %s)%n", rc.name(), model.name(), teacherCfg.name(),
        rc.kdEnabled() ? "on" : "off", source.name().toLowerCase());
    out.print(mapping.describe(teacherCfg, model));
    return mapping;
  }

  /** The training graph: the student's passes and every loss term the config weighs. */
  static PretrainGraph graph(RunConfig rc, ModelConfig model, ModelConfig teacherCfg, KdMapping mapping, FeatureKdSpec features,
      PrintStream out) {
    Map<String, Double> weights = new LinkedHashMap<>();
    for (LossTerm term : LossTerm.values()) weights.put(term.key(), rc.weight(term));
    KdSpec kd = KdSpec.of(rc.kd());
    if (rc.kdEnabled()) out.print(kd.describe());
    return new PretrainGraph(model, rc.kdEnabled() ? teacherCfg : null, mapping, weights, rc.train().optimization().dropout(),
        true, org.nd4j.linalg.api.buffer.DataType.FLOAT, features, kd);
  }

  /** The feature directories of {@code feature_kd}, by teacher name, in config order (empty without feature KD). */
  static Map<String, OfflineFeatures> loadOfflineFeatures(RunConfig rc, PrintStream out) {
    Map<String, OfflineFeatures> m = new LinkedHashMap<>();
    if (!rc.featureKdEnabled()) return m;
    for (RunConfig.FeatureTeacher t : rc.featureKd().teachers()) {
      OfflineFeatures f = OfflineFeatures.load(Path.of(t.features()));
      out.printf("offline teacher %s: %s, %d records, %s (%s)%n", t.name(), t.features(), f.size(), f.dims(), f.manifest().pooling());
      m.put(t.name(), f);
    }
    return m;
  }

  /** The kinds each teacher contributes (all it has, or those the config lists) and their widths. */
  static FeatureKdSpec featureSpec(RunConfig rc, Map<String, OfflineFeatures> offline) {
    List<FeatureKdSpec.TeacherFeatures> ts = new ArrayList<>();
    for (RunConfig.FeatureTeacher t : rc.featureKd().teachers()) {
      OfflineFeatures f = offline.get(t.name());
      Map<FeatureKind, Integer> dims = new EnumMap<>(FeatureKind.class);
      for (FeatureKind k : t.kinds() == null ? List.copyOf(f.dims().keySet()) : t.kinds()) {
        Integer d = f.dims().get(k);
        if (d == null) {
          throw new IllegalArgumentException("feature_kd.teachers." + t.name() + ".kinds: " + t.features() + " has no " + k.key()
              + " features (has " + f.dims().keySet() + ")");
        }
        dims.put(k, d);
      }
      ts.add(new FeatureKdSpec.TeacherFeatures(t.name(), t.weight(), dims));
    }
    return new FeatureKdSpec(ts, rc.featureKd().student());
  }

  /**
   * Every record the run can draw must have features: checked before the first step, naming the first that lacks them
   * (a step would stop at it anyway, naming it too).
   */
  public static void checkCoverage(OfflineFeatures f, DataPipeline data, String split) {
    // records whose image failed at extraction have no features, and a step drops them as well: tolerate that many
    int dropped = f.manifest().badRecords() == null ? 0 : f.manifest().badRecords().values().stream().mapToInt(Integer::intValue).sum();
    List<org.m3ae.data.DataRecord> missing = data.records(split).stream().filter(r -> !f.has(r.id())).toList();
    if (missing.size() > dropped) {
      org.m3ae.data.DataRecord r = missing.get(0);
      throw new IllegalArgumentException(f.dir() + ": no features of teacher '" + f.manifest().teacher() + "' for record '" + r.id()
          + "' (" + r.location() + ") of split " + split + "; they were extracted from " + f.manifest().pipeline() + " split "
          + f.manifest().split());
    }
  }

  /** Remembers the last step's metrics (for the final report). */
  static final class LastStep implements TrainingListener {
    StepMetrics metrics;

    @Override
    public void onStep(StepMetrics m) {
      metrics = m;
    }
  }

  /** The run's data at the model's image size, its tokenizer checked against the model's text config. */
  public static DataPipeline openData(RunConfig rc, ModelConfig model) {
    PipelineConfig pc = PipelineLoader.load(Path.of(rc.data().pipeline()));
    if (rc.data().root() != null) pc = pc.withRoot(rc.data().root());
    pc = pc.withImageSize(model.vision().imageSize());
    DataPipeline data = DataPipeline.open(pc, rc.data().onBadRecord());
    checkTokenizer(data.tokenizer(), model, rc.data().pipeline(), rc.model());
    return data;
  }

  /** The data's tokenizer and the model's text config must agree, or ids index the wrong embeddings. */
  public static void checkTokenizer(TextTokenizer tok, ModelConfig m, String pipeline, String modelFile) {
    RobertaIdsGuard.checkModel(tok, m.text(), pipeline, modelFile);
    var t = m.text();
    if (tok.vocabSize() > t.vocabSize()) {
      throw new IllegalArgumentException(pipeline + ": tokenizer vocabulary " + tok.vocabSize() + " exceeds "
          + modelFile + " text.vocab_size " + t.vocabSize());
    }
    if (tok.specials().pad() != t.padTokenId()) {
      throw new IllegalArgumentException(pipeline + ": tokenizer pad id " + tok.specials().pad() + " differs from "
          + modelFile + " text.pad_token_id " + t.padTokenId());
    }
    if (tok.maxLength() != t.maxTextLen()) {
      throw new IllegalArgumentException(pipeline + ": tokenizer.max_length " + tok.maxLength() + " differs from "
          + modelFile + " text.max_text_len " + t.maxTextLen());
    }
  }

  static Map<Stack, int[]> studentInitMapping(Map<Stack, Integer> teacherLayers, ModelConfig student) {
    return StudentInit.mapping(teacherLayers, student, LayerMapping.LAST_OF_BLOCK, Map.of());
  }

  /** {@code teacherWeights} in graph layout, or any checkpoint of {@code teacherCfg} (imported first). */
  static void initFromTeacher(M3aeGraph student, Path teacherWeights, ModelConfig teacherCfg, PrintStream out) {
    try (TensorSource src = WeightImport.graphLayoutSource(teacherWeights, () -> teacherCfg, out)) {
      var layers = StudentInit.layers(src);
      var mapping = studentInitMapping(layers, student.config());
      var r = StudentInit.run(src, student, mapping);
      out.println("student initialised from " + teacherWeights + ": " + r.report().summary());
      out.print(StudentInit.describe(mapping, layers));
    }
  }

  /**
   * The run's {@code init}: the parts it names loaded from its file, every variable of those parts required (a file
   * that lacks one is not a checkpoint of these parts: an error naming it), the file's other tensors left unused and
   * the other parts random. Shapes that do not fit and layers the graph does not build are errors of the loader.
   */
  static LoadReport initFrom(M3aeGraph g, RunConfig.Init init, TextTokenizer tok, PrintStream out) {
    Path file = Path.of(init.weights());
    if (!Files.isRegularFile(file)) throw new IllegalArgumentException("init weights not found: " + file + " (key 'init.weights')");
    List<ModelPart> parts = init.parts();
    java.util.function.Predicate<String> wanted = n -> parts.stream().anyMatch(p -> p.contains(n));
    try (TensorSource src = TensorSources.open(file)) {
      RobertaIdsGuard.checkWeights(src, tok);
      KeyMap all = TensorSources.keyMapFor(src);
      KeyMap map = new KeyMap() {
        @Override
        public Rule rule(String target, long[] shape) {
          return wanted.test(target) ? all.rule(target, shape) : null;
        }

        @Override
        public String whyUnused(String key) {
          return all.whyUnused(key);
        }
      };
      LoadReport r = WeightLoader.load(g.sd(), src, map);
      List<String> lacking = r.missing().keySet().stream().filter(wanted).sorted().toList();
      if (!lacking.isEmpty()) {
        throw new IllegalArgumentException(file + " (key 'init'): lacks " + lacking.size() + " variable(s) of part(s) "
            + parts.stream().map(ModelPart::label).toList() + " of " + g.config().name() + ", e.g. '" + lacking.get(0)
            + "' (" + r.missing().get(lacking.get(0)) + "): is it a checkpoint of these parts of this model?");
      }
      List<String> random = java.util.Arrays.stream(ModelPart.values())
          .filter(p -> p != ModelPart.ALL && !parts.contains(p) && !parts.contains(ModelPart.ALL)).map(ModelPart::label).toList();
      out.println("initialised " + parts.stream().map(ModelPart::label).toList() + " from " + file + ": " + r.loaded().size()
          + " variables loaded, " + r.unused().size() + " tensors of the file unused"
          + (random.isEmpty() ? "" : "; random: " + String.join(", ", random)));
      return r;
    }
  }

  static LoadReport loadWeights(M3aeGraph g, Path file) {
    try (TensorSource src = TensorSources.open(file)) {
      LoadReport r = WeightLoader.load(g.sd(), src, new GraphKeyMap());
      if (!r.missing().isEmpty()) {
        throw new IllegalStateException(file + ": checkpoint lacks " + r.missing().size() + " variables of the graph, e.g. "
            + r.missing().keySet().iterator().next());
      }
      return r;
    }
  }

  /** The inference graph (joint feature + pre-training heads) with the trained weights. */
  static M3aeGraph inferenceGraph(M3aeGraph trained) {
    M3aeGraph inf = M3aeModel.build(trained.config(), BuildOptions.defaults().withRandomInit(false)
        .withPass(PassSpec.inference().withHeads(PassSpec.Head.MLM, PassSpec.Head.ITM)));
    for (SDVariable v : inf.sd().variables()) {
      if (v.getVariableType() != VariableType.VARIABLE) continue;
      INDArray src = trained.sd().getVariable(v.name()).getArr();
      v.getArr().assign(src);
    }
    return inf;
  }

  static Map<Stack, int[]> overrides(RunConfig rc) {
    Map<Stack, int[]> o = new EnumMap<>(Stack.class);
    if (rc.kd().layers() == null) return o;
    for (var e : rc.kd().layers().entrySet()) {
      int[] v = e.getValue().stream().mapToInt(Integer::intValue).toArray();
      switch (e.getKey()) {
        case "vision" -> o.put(Stack.VISION, v);
        case "text" -> o.put(Stack.TEXT, v);
        case "fusion" -> {
          o.put(Stack.FUSION_TEXT, v);
          o.put(Stack.FUSION_IMAGE, v);
        }
        default -> throw new IllegalArgumentException("kd.layers." + e.getKey() + ": unknown stack (vision, text, fusion)");
      }
    }
    return o;
  }

  static void writeRunJson(RunDir run, RunConfig rc, Path configFile, ModelConfig model) {
    run.writeRunJson(n -> {
      n.put("name", rc.name());
      n.put("kind", "pretrain");
      n.put("model", model.name());
      n.put("config", configFile.toString());
      n.put("teacher", rc.teacher() == null ? null : rc.teacher().model());
      n.put("kd", rc.kdEnabled());
      n.put("mask", rc.mask().source().key());
      if (rc.featureKdEnabled()) {
        var arr = n.putArray("feature_kd");
        for (RunConfig.FeatureTeacher t : rc.featureKd().teachers()) {
          arr.addObject().put("name", t.name()).put("features", t.features()).put("weight", t.weight());
        }
      }
    });
  }
}
