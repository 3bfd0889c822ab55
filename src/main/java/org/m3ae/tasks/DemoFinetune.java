package org.m3ae.tasks;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.m3ae.model.ModelConfig;

/**
 * The {@code demo}'s fine-tuning: each pre-trained model of the demo (teacher, distilled student, undistilled student)
 * fine-tuned on the embedded synthetic VQA set with the same steps and seed, model selection on its val split, and
 * scored once on its test split, with the majority-answer baseline beside them.
 *
 * <pre>{@code Map<String, Map<String, Double>> acc = DemoFinetune.run(List.of(new Model("teacher", cfg, weights)), 400, out);}</pre>
 */
public final class DemoFinetune {
  public static final String TEACHER_MODEL = "configs/models/synth-teacher.yaml";
  public static final String STUDENT_MODEL = "configs/models/synth-student.yaml";
  public static final String PIPELINE = "data-pipelines/synthetic-vqa.yaml";

  /** One pre-trained model to fine-tune: its row label, model config and weights. */
  public record Model(String label, String config, Path weights) {}

  private DemoFinetune() {}

  /**
   * @return label → {"open", "closed", "overall", "n", ...} on the synthetic VQA test split, plus "majority" for the
   *     majority-answer baseline
   */
  public static Map<String, Map<String, Double>> run(List<Model> models, int steps, PrintStream out) {
    Path work;
    try {
      work = Files.createTempDirectory("m3ae-demo-vqa");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Map<String, Map<String, Double>> res = new LinkedHashMap<>();
    int k = 0;
    for (Model m : models) {
      res.put(m.label(), finetuneAndScore("demo-vqa-" + k, m.config(), m.weights(), steps, work.resolve("m" + k), out));
      k++;
    }
    TaskConfig tc = config("demo-vqa-majority", STUDENT_MODEL, steps);
    try (TaskData td = TaskData.open(tc, ModelConfig.load(Path.of(STUDENT_MODEL)), work.resolve("majority"))) {
      res.put("majority", Evaluator.majorityBaseline(td.data(), td.train(), td.test()));
    }
    return res;
  }

  static Map<String, Double> finetuneAndScore(String name, String model, Path init, int steps, Path dir, PrintStream out) {
    TaskConfig tc = config(name, model, steps);
    FinetuneRun.run(tc, null, init, dir, steps, List.of(), out);
    ModelConfig mc = ModelConfig.load(Path.of(model));
    try (TaskData td = TaskData.open(tc, mc, dir)) {
      TaskGraph g = TaskGraph.build(mc, TaskKind.VQA, td.outputs(TaskKind.VQA), td.textLen(), false, 1, 0);
      FinetuneRun.loadInto(g.sd(), dir.resolve("model.safetensors"));
      return Evaluator.vqa(g, td.data(), td.test(), 64, 2, dir.resolve("predictions.jsonl")).metrics();
    }
  }

  /**
   * Synthetic VQA: batch 32, lr 1e-3 as the synthetic pre-training, heads ×5 (the VQA head starts from random
   * weights), validation every 40 steps on the val split.
   */
  static TaskConfig config(String name, String model, int steps) {
    return new TaskConfig(name, "vqa", model, null,
        new TaskConfig.Data(PIPELINE, null, 2, "skip", "train", "val", null, null, "test", null, null),
        new TaskConfig.Train(1000, 32, 1, 1e-3, Map.of(org.m3ae.train.LrGroup.BACKBONE, 1.0, org.m3ae.train.LrGroup.FUSION, 1.0, org.m3ae.train.LrGroup.HEADS, 5.0), 0.01, null, 0.1, 1.0,
            org.m3ae.train.NoDecay.NORMS_AND_GAINS, 0L,
            true, steps, null, 40, false, null),
        new TaskConfig.Eval(64, null, null));
  }

  /**
   * The demo's fine-tuning settings as a task config ({@link #config}), for callers outside this package that
   * fine-tune as the demo does (the {@code ablate} grids): run name, model config, maximum steps.
   */
  public static TaskConfig settings(String name, String model, int steps) {
    return config(name, model, steps);
  }
}
