package org.m3ae.ablate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.m3ae.data.pipeline.DataPipeline;
import org.m3ae.distill.FeatureRetrieval;
import org.m3ae.distill.PretrainRun;
import org.m3ae.model.ModelConfig;
import org.m3ae.tasks.Evaluation;
import org.m3ae.tasks.FinetuneRun;
import org.m3ae.tasks.HeadInit;
import org.m3ae.tasks.ItmAccuracy;
import org.m3ae.tasks.Metrics;
import org.m3ae.tasks.TaskConfig;
import org.m3ae.tasks.TaskManifest;
import org.m3ae.train.Checkpoints;
import org.m3ae.train.RunConfig;
import org.m3ae.train.RunDir;

/**
 * Runs one cell, or one shared run, resumably. Each stage leaves a marker file when it is complete and is skipped
 * when its marker is there: pre-training ({@code pretrain.json}; an interrupted run continues from its last complete
 * checkpoint, or starts again when it has none), fine-tuning ({@code finetune.json}; likewise), the retrieval
 * fine-tuning where the grid has one ({@code retrieval.json}; likewise), and the evaluation (VQA test, ITM, retrieval,
 * and retrieval through the ICL head where the grid asks for it), whose result is the cell's {@code cell.json}.
 */
final class CellRunner {
  private CellRunner() {}

  /** Pre-trains (or distils) into {@code runDir} unless {@code done} says it finished; returns its seconds. */
  static double pretrain(RunConfig rc, Path configFile, Path runDir, Path done, PrintStream out) {
    if (Files.exists(done)) return readJson(done).path("seconds").asDouble();
    boolean resume = resumable(runDir);
    PretrainRun.Result r = PretrainRun.run(rc, configFile, runDir, null, resume, List.of(), out);
    ObjectNode n = CellResult.JSON.createObjectNode();
    n.put("steps", r.steps()).put("weights", r.weights().toString()).put("parameters", r.parameters());
    n.put("resumed", resume).put("seconds", r.seconds());
    writeJson(done, n);
    return r.seconds();
  }

  /** Runs every stage of {@code c} that has not finished and writes its {@code cell.json}. */
  static CellResult run(GridPlan.Cell c, GridConfig.Itm itm, int maxPairs, GridConfig.FeatureRetrieval fr, PrintStream out) {
    Map<String, Double> seconds = new LinkedHashMap<>();
    // a shared-run row fine-tunes the shared run's weights: its pre-training was done once, before the cells
    seconds.put("pretrain", c.shared() != null ? 0.0 : pretrain(c.run(), c.runFile(), c.pretrainDir(), c.pretrainDone(), out));

    Path ft = c.finetuneDir();
    JsonNode ftInfo = finetune(c.finetune(), c.finetuneFile(), ft, c.finetuneDone(), out);
    seconds.put("finetune", ftInfo.path("seconds").asDouble());
    JsonNode irInfo = null;
    if (c.retrieval() != null) {
      irInfo = finetune(c.retrieval(), c.retrievalFile(), c.retrievalDir(), c.retrievalDone(), out);
      seconds.put("retrieval", irInfo.path("seconds").asDouble());
    }

    long t0 = System.nanoTime();
    String split = c.finetune().data().testSplit();
    Evaluation.Report vqa = Evaluation.run(c.finetune(), ft, split, c.testDir(), null, 0, true, out);
    Map<String, Double> majority = vqa.others().getOrDefault("majority answer (train)", Map.of());
    ModelConfig model = ModelConfig.load(Path.of(c.run().model()));
    ItmAccuracy.Result im = ItmAccuracy.evaluate(model, c.weights(),
        Path.of(c.run().data().pipeline()), c.run().data().root(), itm.split(), itm.batchSize(), itm.seed());
    Evaluation.Report ir = null;
    if (c.retrieval() != null) {
      ir = Evaluation.run(c.retrieval(), c.retrievalDir(), c.retrieval().data().testSplit(), c.retrievalTestDir(), null,
          maxPairs, true, out);
    }
    Map<String, FeatureRetrievalScore> icl = featureRetrieval(c, model, fr);
    seconds.put("evaluate", (System.nanoTime() - t0) / 1e9);
    seconds.put("total", seconds.values().stream().mapToDouble(Double::doubleValue).sum());

    Map<String, Double> m = new LinkedHashMap<>();
    m.put("vqa_overall", vqa.metrics().get("overall"));
    m.put("vqa_closed", vqa.metrics().get("closed"));
    m.put("vqa_open", vqa.metrics().get("open"));
    m.put("itm_accuracy", im.accuracy());
    Map<String, Double> d = new LinkedHashMap<>();
    for (String k : List.of("n", "n_closed", "n_open")) if (vqa.metrics().containsKey(k)) d.put("vqa_" + k, vqa.metrics().get(k));
    d.put("itm_pairs", (double) im.pairs());
    d.put("itm_loss", im.loss());
    d.put("finetune_steps", ftInfo.path("steps").asDouble());
    d.put("val_best", ftInfo.path("best_val").asDouble());
    d.put("val_best_step", ftInfo.path("best_step").asDouble());
    if (ir != null) {
      for (String k : CellResult.RETRIEVAL_METRICS) {
        m.put(k, ir.metrics().get(k));
        d.put(CellResult.CHANCE_PREFIX + k, ir.others().get(Evaluation.CHANCE).get(k));
      }
      d.put("retrieval_images", ir.metrics().get("n_images"));
      d.put("retrieval_texts", ir.metrics().get("n_texts"));
      d.put("retrieval_val_best", irInfo.path("best_val").asDouble());
    }
    for (var e : icl.entrySet()) {
      for (String dir : List.of("i2t", "t2i")) {
        String k = CellResult.featureMetric(e.getKey(), dir);
        m.put(k, e.getValue().recall().get(dir + "_r10"));
        d.put(CellResult.CHANCE_PREFIX + k, e.getValue().chance().get(dir + "_r10"));
      }
      d.put("icl_images", (double) e.getValue().images());
      d.put("icl_texts", (double) e.getValue().texts());
    }
    int answers = TaskManifest.read(ft).labels().size();
    CellResult r = new CellResult(c.label(), c.seed(), m, majority, answers, d, seconds, java.time.Instant.now().toString());
    r.write(c.resultFile());
    return r;
  }

  /** R@10 both ways through a teacher's ICL head, with the chance of random scores on the same pairs. */
  record FeatureRetrievalScore(int images, int texts, Map<String, Double> recall, Map<String, Double> chance) {}

  /**
   * The cell's pre-trained weights scored through each feature teacher's ICL head on {@code fr}'s split (see
   * {@link GridConfig.FeatureRetrieval}); empty when the grid asks for no such score or the cell's run has no unimodal
   * ICL to score.
   */
  static Map<String, FeatureRetrievalScore> featureRetrieval(GridPlan.Cell c, ModelConfig model, GridConfig.FeatureRetrieval fr) {
    Map<String, FeatureRetrievalScore> r = new LinkedHashMap<>();
    RunConfig rc = c.run();
    if (fr == null || !rc.featureKdEnabled() || rc.featureKd().student() != RunConfig.StudentFeatures.UNIMODAL) return r;
    try (DataPipeline data = PretrainRun.openData(rc, model)) {
      List<String> teachers = rc.featureKd().teachers().stream().map(RunConfig.FeatureTeacher::name).toList();
      for (var e : FeatureRetrieval.captionFeatures(Path.of(fr.features()), teachers, data, fr.split()).entrySet()) {
        FeatureRetrieval.Scores s = FeatureRetrieval.score(model, c.weights(), e.getKey(), e.getValue(), data, fr.split(), fr.batchSize(), 2, 0);
        r.put(e.getKey(), new FeatureRetrievalScore(s.numImages(), s.textImage().length, Metrics.recall(s.scores(), s.textImage(), 10),
            Metrics.recallChance(s.numImages(), s.textImage(), 10)));
      }
    }
    return r;
  }

  /**
   * Fine-tunes {@code tc} into {@code dir} unless {@code done} says it finished (then its record); an interrupted run
   * continues from its last complete checkpoint, or starts again from a clean directory when it has none.
   */
  private static JsonNode finetune(TaskConfig tc, Path file, Path dir, Path done, PrintStream out) {
    if (Files.exists(done)) return readJson(done);
    boolean resume = resumable(dir);
    FinetuneRun.Result r = FinetuneRun.run(tc, file, null, HeadInit.CHECKPOINT, dir, null, resume, List.of(), out);
    ObjectNode n = CellResult.JSON.createObjectNode();
    n.put("steps", r.steps()).put("select_metric", r.selectMetric()).put("best_val", r.bestVal()).put("best_step", r.bestStep());
    n.put("resumed", resume).put("seconds", r.seconds());
    writeJson(done, n);
    return n;
  }

  /**
   * Whether an interrupted stage in {@code runDir} continues from a checkpoint; when it has none, the directory is
   * cleared and the stage starts again from a clean directory.
   */
  static boolean resumable(Path runDir) {
    if (new Checkpoints(runDir, 1).latest().isPresent()) return true;
    deleteTree(runDir);
    return false;
  }

  static JsonNode readJson(Path f) {
    try {
      return CellResult.JSON.readTree(f.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + f + " (delete it to redo that stage)", e);
    }
  }

  static void writeJson(Path f, JsonNode n) {
    try {
      Files.createDirectories(f.toAbsolutePath().getParent());
      Path tmp = f.resolveSibling(f.getFileName() + ".tmp");
      CellResult.JSON.writeValue(tmp.toFile(), n);
      Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + f, e);
    }
  }

  static void deleteTree(Path dir) {
    if (!Files.exists(dir)) return;
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + dir, e);
    }
  }
}
