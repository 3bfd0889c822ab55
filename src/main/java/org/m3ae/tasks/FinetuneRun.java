package org.m3ae.tasks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.m3ae.data.pipeline.BatchOptions;
import org.m3ae.data.text.TextTokenizer;
import org.m3ae.model.ModelConfig;
import org.m3ae.train.AdamW;
import org.m3ae.train.BatchStream;
import org.m3ae.train.CheckpointListener;
import org.m3ae.train.Checkpoints;
import org.m3ae.train.MetricsJsonl;
import org.m3ae.train.Optimization;
import org.m3ae.train.ProgressListener;
import org.m3ae.train.RunDir;
import org.m3ae.train.StepMetrics;
import org.m3ae.train.Trainer;
import org.m3ae.train.TrainingListener;
import org.m3ae.weights.KeyMap;
import org.m3ae.weights.LoadReport;
import org.m3ae.data.text.RobertaIdsGuard;
import org.m3ae.weights.TensorSource;
import org.m3ae.weights.TensorSources;
import org.m3ae.weights.WeightLoader;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;

/**
 * One fine-tuning run (SPEC §5): loads the pre-trained weights (the task head from the file when it has one and
 * {@link HeadInit#CHECKPOINT}, else fresh; irtr_head then from the ITM match row),
 * trains with {@link Trainer} (AdamW, warm-up + linear decay, per-group learning rates), validates on the validation
 * split every epoch and keeps the best weights. Writes into {@code runDir}: {@code run.json} (kind finetune),
 * {@code task.json} (what {@link Predictor} and {@code evaluate} need), {@code metrics.jsonl} (steps and
 * {@code validation} events with {@code val_*} values), {@code model.safetensors} (the selected weights),
 * {@code last.safetensors}, {@code model.sdz} (the inference graph) when it fits SameDiff's size limit, and
 * {@code checkpoints/} for {@code --resume}.
 *
 * <p>Resume is exact: a checkpoint holds the weights, AdamW's moments, the data position and the model selection so
 * far ({@code validation.json}: the best score and its step); dropout masks and negatives are drawn from (seed, step),
 * so the steps after it replay the uninterrupted run's, and a validation replayed after the checkpoint rewrites
 * {@code model.safetensors} with the same weights. By default a checkpoint is written at every validation, after it.
 */
public final class FinetuneRun {
  public record Result(Path runDir, int steps, double bestVal, int bestStep, String selectMetric, Path weights, Path sdz,
      double seconds) {}

  private static final ObjectMapper JSON = new ObjectMapper();

  private FinetuneRun() {}

  /** The file in a fine-tuning checkpoint that holds the model selection so far. */
  static final String VALIDATION_STATE = "validation.json";

  public static Result run(TaskConfig tc, Path configFile, Path init, Path runDir, Integer maxSteps,
      List<TrainingListener> extra, PrintStream out) {
    return run(tc, configFile, init, HeadInit.CHECKPOINT, runDir, maxSteps, false, extra, out);
  }

  /**
   * @param heads whether a task head in the init file is loaded ({@link HeadInit#CHECKPOINT}) or ignored
   * @param resume continue from the run directory's latest complete checkpoint (from step 0 when it has none)
   */
  public static Result run(TaskConfig tc, Path configFile, Path init, HeadInit heads, Path runDir, Integer maxSteps,
      boolean resume, List<TrainingListener> extra, PrintStream out) {
    long t0 = System.nanoTime();
    RunDir run = new RunDir(runDir);
    ModelConfig model = ModelConfig.load(Path.of(tc.model()));
    Path initFile = init != null ? init : tc.init() == null || tc.init().equals("none") ? null : Path.of(tc.init());
    if (initFile != null && !Files.isRegularFile(initFile)) {
      // before the data and the graph: a full-size graph takes a minute and gigabytes to build
      throw new IllegalArgumentException("init checkpoint not found: " + initFile + (init != null ? " (--init)"
          : " (key 'init' of " + configFile + "; --init overrides it)"));
    }
    TaskKind kind = tc.kind();
    Optimization opt = tc.train().optimization();
    long seed = opt.seed();
    try (TaskData td = TaskData.open(tc, model, runDir)) {
      int outputs = td.outputs(kind);
      int textLen = td.textLen();
      int candidates = 1 + tc.train().negatives();
      boolean frozen = tc.train().freezeEmbeddings();
      TaskGraph train = TaskGraph.build(model, kind, outputs, textLen,
          frozen ? TaskGraph.Mode.FROZEN_EMBEDDINGS : TaskGraph.Mode.TRAINING, candidates, seed);
      if (!opt.dropout()) train.graph().dropout().disable();
      if (initFile != null) loadPretrained(train, initFile, td.data().tokenizer(), heads, out);
      else out.println(tc.name() + ": no init checkpoint: fine-tuning from random initialisation");
      if (frozen) out.println("frozen (not trained, no dropout): " + train.freezeEmbeddings());
      TaskGraph eval = TaskGraph.build(model, kind, outputs, textLen, TaskGraph.Mode.INFERENCE, candidates, seed);

      int perStep = tc.train().batchSize() * opt.accumulate();
      int nTrain = td.data().records(td.train()).size();
      int perEpoch = Math.max(1, nTrain / perStep);
      int steps = tc.train().epochs() * perEpoch;
      if (tc.train().maxSteps() != null) steps = Math.min(steps, tc.train().maxSteps());
      if (maxSteps != null) steps = Math.min(steps, maxSteps);
      int every = tc.train().validateEvery() != null ? tc.train().validateEvery() : perEpoch;
      out.printf("%s: %s fine-tuning of %s, %d train / %d %s records, %d outputs, text %d, image %d px; %d steps (%d per epoch), "
              + "validation every %d steps on %s%n", tc.name(), kind.id(), model.name(), nTrain, td.data().records(td.val()).size(),
          td.val(), outputs, textLen, model.vision().imageSize(), steps, perEpoch, every, td.valNote());

      Files.createDirectories(runDir);
      TaskManifest.of(tc, configFile, model, td, outputs, textLen).write(runDir);
      writeRunJson(run, tc, configFile, model, initFile, heads, td, steps);

      FinetuneTask task = new FinetuneTask(train, seed);
      AdamW adam = new AdamW(opt.adamW());
      // Order: a step's metrics line, its validation (which writes the validation line), the checkpoint that records
      // the validation's outcome, then the progress line and the caller's listeners (which may stop the run).
      List<TrainingListener> listeners = new ArrayList<>();
      Validation val = new Validation(tc, td, train, eval, run, every, steps, listeners, out);
      int ckptEvery = tc.train().checkpointEvery() != null ? tc.train().checkpointEvery() : every;
      List<Path> configCopies = new ArrayList<>();
      if (configFile != null) configCopies.add(configFile);
      configCopies.add(Path.of(tc.model()));
      try (BatchStream stream = new BatchStream(td.data(), td.train(), BatchOptions.plain(), tc.train().batchSize(), seed, tc.data().workers())) {
        Checkpoints ckpts = run.checkpoints(tc.train().keepCheckpoints());
        Path resumedFrom = resume ? resume(ckpts, train, task, adam, stream, val, out) : null;
        int start = resumedFrom == null ? 0 : Checkpoints.readState(resumedFrom).nextStep();
        CheckpointListener checkpoints = new CheckpointListener(ckpts, ckptEvery, steps,
            next -> new Checkpoints.State(next, stream.epoch(), stream.index(), seed, tc.name()),
            dir -> {
              train.writeWeights(dir.resolve(Checkpoints.MODEL));
              adam.save(dir.resolve(Checkpoints.OPTIMIZER));
              val.writeState(dir.resolve(VALIDATION_STATE));
            },
            configCopies, extra, resumedFrom);
        listeners.add(new MetricsJsonl(runDir));
        listeners.add(val);
        listeners.add(checkpoints);
        listeners.add(new ProgressListener(tc.name(), Math.max(1, Math.min(every, steps / 20))));
        listeners.addAll(extra);
        if (start < steps) {
          Trainer trainer = new Trainer(task, stream::next, Trainer.Settings.of(opt, steps, tc.train().gcEvery()), adam, listeners,
              checkpoints::last);
          trainer.run(runDir, start);
          out.println("executor: " + trainer.executorReport());
        } else {
          out.printf("already at step %d of %d: nothing to run%n", start, steps);
        }
      }
      train.writeWeights(run.lastWeights());
      if (!Files.exists(run.weights())) train.writeWeights(run.weights()); // no validation kept any (no step ran, or NaN scores)
      run.writeSkipReport(td.data().report());
      // the inference graph with the selected weights, for Predictor / any DL4J application
      loadInto(eval.sd(), run.weights());
      Path sdz = run.saveInferenceGraph(eval.sd());
      return new Result(runDir, steps, val.best, val.bestStep, val.metricName(), run.weights(), sdz, (System.nanoTime() - t0) / 1e9);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * {@link Checkpoints#resume} with the weights (the frozen embedding tables, constants, stay as the init file set
   * them) and the model selection so far; null when there is no checkpoint (the run then starts at step 0).
   */
  static Path resume(Checkpoints ckpts, TaskGraph train, FinetuneTask task, AdamW adam, BatchStream stream, Validation val,
      PrintStream out) {
    Path dir = ckpts.resume(d -> {
      loadInto(train.sd(), d.resolve(Checkpoints.MODEL));
      val.readState(d.resolve(VALIDATION_STATE));
    }, adam, task.trainable(), stream, out);
    if (dir != null) {
      out.printf("best %s so far: %s%n", val.metricName(),
          val.bestStep < 0 ? "none (no validation yet)" : String.format("%.4f at step %d", val.best, val.bestStep + 1));
    }
    return dir;
  }

  /** Validates every {@code every} steps and at the end; keeps the best weights as model.safetensors. */
  static final class Validation implements TrainingListener {
    final TaskConfig tc;
    final TaskData td;
    final TaskGraph train, eval;
    final RunDir run;
    final int every, steps;
    final List<TrainingListener> listeners;
    final PrintStream out;
    double best = Double.NEGATIVE_INFINITY;
    int bestStep = -1;

    Validation(TaskConfig tc, TaskData td, TaskGraph train, TaskGraph eval, RunDir run, int every, int steps,
        List<TrainingListener> listeners, PrintStream out) {
      this.tc = tc;
      this.td = td;
      this.train = train;
      this.eval = eval;
      this.run = run;
      this.every = every;
      this.steps = steps;
      this.listeners = listeners;
      this.out = out;
    }

    String metricName() {
      return switch (tc.kind()) {
        case VQA -> "val_overall";
        case CLASSIFICATION -> "val_accuracy";
        case RETRIEVAL -> "val_r1_sum"; // M3AE's the_metric = ir_r1 + tr_r1
      };
    }

    @Override
    public void onStep(StepMetrics m) {
      int s = m.step();
      if ((s + 1) % every != 0 && s != steps - 1) return;
      copyWeights(train.sd(), eval.sd());
      Map<String, Double> v = new LinkedHashMap<>();
      Map<String, Double> res = evaluate(tc, eval, td, td.val(), null, out);
      res.forEach((k, x) -> {
        if (!k.equals("n") && !k.startsWith("n_")) v.put("val_" + k, x);
      });
      if (tc.kind() == TaskKind.RETRIEVAL) v.put("val_r1_sum", res.get("i2t_r1") + res.get("t2i_r1"));
      double score = v.get(metricName());
      if (score > best) {
        best = score;
        bestStep = s;
        train.writeWeights(run.weights());
      }
      v.put("val_best", best);
      StepMetrics vm = new StepMetrics(StepMetrics.VALIDATION, s, System.currentTimeMillis(), v);
      for (TrainingListener l : listeners) if (l != this) l.onValidation(vm);
      out.printf("step %d: %s = %.4f (best %.4f at step %d)%n", s + 1, metricName(), score, best, bestStep + 1);
    }

    /** The selection so far, for a checkpoint: the metric, the best score and its step (−1 and no score: none yet). */
    void writeState(Path file) throws IOException {
      ObjectNode n = JSON.createObjectNode();
      n.put("metric", metricName());
      n.put("best_step", bestStep);
      if (bestStep >= 0) n.put("best", best);
      Files.writeString(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n));
    }

    void readState(Path file) {
      try {
        JsonNode n = JSON.readTree(file.toFile());
        if (!metricName().equals(n.path("metric").asText())) {
          throw new IllegalArgumentException(file + ": the checkpoint selects on '" + n.path("metric").asText() + "', this run on '"
              + metricName() + "': is it a checkpoint of this task?");
        }
        bestStep = n.path("best_step").asInt(-1);
        best = bestStep < 0 ? Double.NEGATIVE_INFINITY : n.path("best").asDouble();
      } catch (IOException e) {
        throw new UncheckedIOException(file + ": unreadable checkpoint file (" + e.getMessage() + ")", e);
      }
    }
  }

  /** Task metrics of one split with an inference graph (validation subsets of retrieval capped at 100 pairs). */
  static Map<String, Double> evaluate(TaskConfig tc, TaskGraph g, TaskData td, String split, Path predictions, PrintStream out) {
    int workers = tc.data().workers();
    return switch (tc.kind()) {
      case VQA -> Evaluator.vqa(g, td.data(), split, tc.eval().batchSize(), workers, predictions).metrics();
      case CLASSIFICATION -> Evaluator.classification(g, td.data(), split, tc.eval().batchSize(), workers).metrics();
      case RETRIEVAL -> {
        Retrieval.Set s = Retrieval.load(td.data(), split, tc.eval().batchSize(), workers, 100);
        yield Metrics.recall(Retrieval.fullScores(g, s, tc.eval().chunk(), null), s.textImage(), 1, 5, 10);
      }
    };
  }

  /** {@link #loadPretrained(TaskGraph, Path, TextTokenizer, HeadInit, PrintStream)} with the file's head, if any. */
  static LoadReport loadPretrained(TaskGraph g, Path file, TextTokenizer tok, PrintStream out) {
    return loadPretrained(g, file, tok, HeadInit.CHECKPOINT, out);
  }

  /**
   * Backbone from a pre-training or fine-tuned checkpoint. The task head comes from the file when it carries one of
   * the right shape and {@code heads} is {@link HeadInit#CHECKPOINT} (a released fine-tuned M3AE continues from its
   * head; a head of another label count is an error naming the key and both shapes); otherwise it starts fresh, and
   * irtr_head from the ITM match row (m3ae_module.py). The file is a run's graph-layout weights or a checkpoint under
   * the official M3AE names (the .ckpt itself): the key map follows the file, as in {@code import}.
   */
  static LoadReport loadPretrained(TaskGraph g, Path file, TextTokenizer tok, HeadInit heads, PrintStream out) {
    if (!Files.isRegularFile(file)) throw new IllegalArgumentException("init checkpoint not found: " + file);
    try (TensorSource src = TensorSources.open(file)) {
      RobertaIdsGuard.checkWeights(src, tok);
      KeyMap map = TensorSources.keyMapFor(src);
      if (heads == HeadInit.FRESH) {
        map = withoutTaskHeads(map);
      } else {
        TaskHeads.checkShapes(g.sd(), src, map, "fine-tune with the label set it was trained on, or pass --init-heads fresh "
            + "to start the head from random");
      }
      LoadReport r = WeightLoader.load(g.sd(), src, map);
      List<String> missing = new ArrayList<>();
      List<String> headMissing = new ArrayList<>();
      for (String k : r.missing().keySet()) (TaskHeads.isTaskHead(k) ? headMissing : missing).add(k);
      if (!missing.isEmpty()) {
        throw new IllegalArgumentException(file + ": checkpoint lacks " + missing.size() + " backbone variables of "
            + g.graph().config().name() + ", e.g. '" + missing.get(0) + "' (" + r.missing().get(missing.get(0))
            + "): is it a checkpoint of this model config?");
      }
      int headVars = 0;
      for (SDVariable v : g.sd().variables()) {
        if (v.getVariableType() == VariableType.VARIABLE && TaskHeads.isTaskHead(v.name())) headVars++;
      }
      if (!headMissing.isEmpty() && headMissing.size() < headVars && heads == HeadInit.CHECKPOINT) {
        // half a head (e.g. vqa_head.0 without vqa_head.3) cannot be what anyone trained: refuse rather than mix
        throw new IllegalArgumentException(file + ": has part of the task head only: lacks '" + headMissing.get(0) + "' ("
            + r.missing().get(headMissing.get(0)) + "); pass --init-heads fresh to start the whole head from random");
      }
      String head;
      if (headMissing.isEmpty()) {
        head = "; task head loaded from the checkpoint (" + g.outputs() + " outputs)";
      } else if (g.kind() == TaskKind.RETRIEVAL) {
        head = TaskHeads.initIrtrFromItm(g.irtr(), src) ? "; irtr_head initialised from itm_head.fc column 1 (match)"
            : "; no itm_head in the checkpoint: irtr_head random";
      } else {
        head = heads == HeadInit.FRESH ? "; task head fresh (--init-heads fresh)" : "; no task head in the checkpoint: head random";
      }
      out.println("initialised from " + file + ": " + r.summary() + head);
      return r;
    }
  }

  /** {@code map} with every task-head variable left unmapped (fresh), and the file's head keys reported as ignored. */
  static KeyMap withoutTaskHeads(KeyMap map) {
    return new KeyMap() {
      @Override
      public Rule rule(String target, long[] shape) {
        return TaskHeads.isTaskHead(target) ? null : map.rule(target, shape);
      }

      @Override
      public String whyUnused(String key) {
        return TaskHeads.isTaskHead(key) ? "task head of the file, ignored (--init-heads fresh)" : map.whyUnused(key);
      }
    };
  }

  static boolean isTaskHead(String name) {
    return TaskHeads.isTaskHead(name);
  }

  /** {@link #loadInto(SameDiff, Path)} for data from {@code tok}, which must be able to index the weights' embeddings. */
  public static void loadInto(SameDiff sd, Path file, TextTokenizer tok) {
    RobertaIdsGuard.checkWeights(file, tok);
    loadInto(sd, file);
  }

  /** All weights of a fine-tuned model (backbone and head) into a graph with the same variables; key map as above. */
  public static void loadInto(SameDiff sd, Path file) {
    try (TensorSource src = TensorSources.open(file)) {
      KeyMap map = TensorSources.keyMapFor(src);
      TaskHeads.checkShapes(sd, src, map, "evaluate with the config (label set) the model was fine-tuned with");
      LoadReport r = WeightLoader.load(sd, src, map);
      if (!r.missing().isEmpty()) {
        String k = r.missing().keySet().iterator().next();
        throw new IllegalArgumentException(file + ": lacks " + r.missing().size() + " variables of the task graph, e.g. '" + k
            + "' (" + r.missing().get(k) + "): is it a fine-tuned checkpoint of this task and model?");
      }
    }
  }

  static void copyWeights(SameDiff from, SameDiff to) {
    for (SDVariable v : to.variables()) {
      if (v.getVariableType() != VariableType.VARIABLE) continue;
      v.getArr().assign(from.getVariable(v.name()).getArr());
    }
  }

  static void writeRunJson(RunDir run, TaskConfig tc, Path configFile, ModelConfig model, Path init, HeadInit heads,
      TaskData td, int steps) {
    run.writeRunJson(n -> {
      n.put("name", tc.name());
      n.put("kind", "finetune");
      n.put("task", tc.kind().id());
      n.put("model", model.name());
      n.put("config", configFile == null ? null : configFile.toString());
      n.put("init", init == null ? null : init.toString());
      n.put("init_heads", init == null ? null : heads.id());
      n.put("pipeline", tc.data().pipeline());
      n.put("validation", td.valNote());
      n.put("steps", steps);
      n.put("seed", tc.train().optimization().seed());
    });
  }
}
