package org.m3ae.tasks;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.m3ae.model.ModelConfig;
import org.m3ae.train.RunDir;

/** The {@code evaluate} command: scores a fine-tuned checkpoint on one split and writes results.json / results.md. */
public final class Evaluation {
  private Evaluation() {}

  /** The retrieval table's baseline row: the R@K of random scores ({@link Metrics#recallChance}). */
  public static final String CHANCE = "chance (random scores)";

  public record Report(Map<String, Double> metrics, Map<String, Map<String, Double>> others, Path resultsJson, String markdown) {}

  public static Report run(TaskConfig tc, Path checkpoint, String split, Path outDir, Integer rerankK, int maxPairs,
      boolean baseline, PrintStream out) {
    return run(tc, checkpoint, split, outDir, rerankK, maxPairs, baseline, false, out);
  }

  /**
   * @param imageControls VQA: also score the same model with each question shown another question's image and with a
   *     blank image ({@link ImageControl}), rows beside the majority baseline
   */
  public static Report run(TaskConfig tc, Path checkpoint, String split, Path outDir, Integer rerankK, int maxPairs,
      boolean baseline, boolean imageControls, PrintStream out) {
    if (imageControls && tc.kind() != TaskKind.VQA) {
      throw new IllegalArgumentException("image controls are for VQA models; " + tc.name() + " is a " + tc.kind() + " task");
    }
    Path weights = Files.isDirectory(checkpoint) ? checkpoint.resolve(RunDir.WEIGHTS) : checkpoint;
    if (!Files.isRegularFile(weights)) throw new IllegalArgumentException("checkpoint not found: " + weights);
    Path runDir = weights.toAbsolutePath().getParent();
    Path dir = outDir != null ? outDir : runDir.resolve("results-" + split);
    ModelConfig model = ModelConfig.load(Path.of(tc.model()));
    TaskKind kind = tc.kind();
    try (TaskData td = TaskData.open(tc, model, runDir)) {
      if (!td.data().splits().contains(split)) {
        throw new IllegalArgumentException(tc.data().pipeline() + ": no split '" + split + "' (has " + td.data().splits() + ")");
      }
      int outputs = td.outputs(kind);
      Path manifest = runDir.resolve(TaskManifest.FILE);
      if (Files.isRegularFile(manifest) && kind != TaskKind.RETRIEVAL) {
        TaskManifest m = TaskManifest.read(runDir);
        List<String> now = kind == TaskKind.VQA ? td.data().answerVocabulary().answers()
            : TaskManifest.of(tc, null, model, td, outputs, td.textLen()).labels();
        if (!m.labels().equals(now)) {
          throw new IllegalArgumentException(manifest + ": the model's " + m.labels().size() + " outputs differ from the "
              + now.size() + " labels this config's data gives: evaluate with the config the model was fine-tuned with");
        }
      }
      TaskGraph g = TaskGraph.inference(model, kind, outputs, td.textLen());
      FinetuneRun.loadInto(g.sd(), weights, td.data().tokenizer());
      Map<String, Double> metrics;
      Map<String, Map<String, Double>> others = new LinkedHashMap<>();
      Map<String, String> info = new LinkedHashMap<>();
      info.put("checkpoint", weights.toString());
      info.put("validation", td.valNote());
      long t0 = System.nanoTime();
      switch (kind) {
        case VQA -> {
          Evaluator.Outcome o = Evaluator.vqa(g, td.data(), split, tc.eval().batchSize(), tc.data().workers(), dir.resolve("predictions.jsonl"));
          metrics = o.metrics();
          info.put("answer_vocabulary", td.data().answerVocabulary().size() + " answers from splits " + td.data().answerVocabulary().splits()
              + ", numbered " + td.data().answerVocabulary().order().id());
          if (!o.notes().isEmpty()) info.put("unscored", o.notes());
          if (baseline) others.put("majority answer (train)", Evaluator.majorityBaseline(td.data(), td.train(), split));
          if (imageControls) {
            for (ImageControl c : List.of(ImageControl.SHUFFLED, ImageControl.BLANK)) {
              others.put(c.label(), Evaluator.vqa(g, td.data(), split, tc.eval().batchSize(), tc.data().workers(), null, c, 0).metrics());
            }
          }
        }
        case CLASSIFICATION -> {
          Evaluator.Outcome o = Evaluator.classification(g, td.data(), split, tc.eval().batchSize(), tc.data().workers());
          metrics = o.metrics();
          if (!o.notes().isEmpty()) info.put("unscored", o.notes());
        }
        case RETRIEVAL -> {
          Retrieval.Set s = Retrieval.load(td.data(), split, tc.eval().batchSize(), tc.data().workers(), maxPairs);
          info.put("pairs", s.numImages() + " images × " + s.numTexts() + " texts");
          float[][] full = Retrieval.fullScores(g, s, tc.eval().chunk(), out);
          double tFull = (System.nanoTime() - t0) / 1e9;
          metrics = new LinkedHashMap<>(Metrics.recall(full, s.textImage(), 1, 5, 10));
          metrics.put("n_images", (double) s.numImages());
          metrics.put("n_texts", (double) s.numTexts());
          if (baseline) others.put(CHANCE, Metrics.recallChance(s.numImages(), s.textImage(), 1, 5, 10));
          info.put("full_scoring_s", String.format("%.1f", tFull));
          int k = rerankK != null ? rerankK : tc.eval().rerankK();
          if (k > 0) {
            long t1 = System.nanoTime();
            float[][] fast = Retrieval.rerankScores(g, s, k, tc.eval().chunk(), out);
            double tFast = (System.nanoTime() - t1) / 1e9;
            others.put("re-rank top-" + k, Metrics.recall(fast, s.textImage(), 1, 5, 10));
            info.put("rerank_s", String.format("%.1f", tFast));
          }
        }
        default -> throw new IllegalStateException(); // unreachable (every TaskKind above); Java 17 needs it for definite assignment
      }
      info.put("eval_s", String.format("%.1f", (System.nanoTime() - t0) / 1e9));
      Path json = Results.write(dir, tc.name(), kind, split, metrics, others, info);
      String md = Results.markdown(tc.name(), kind, split, metrics, others, info);
      return new Report(metrics, others, json, md);
    }
  }
}
