package org.m3ae.tasks;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.m3ae.model.ModelConfig;
import org.m3ae.train.RunDir;

/**
 * The {@code demo}'s fine-tuning: each pre-trained model of the demo (teacher, distilled student, undistilled student)
 * fine-tuned on the embedded synthetic VQA set with the same steps and seed, model selection on its val split, and
 * scored once on its test split; and the majority-answer baseline beside them.
 *
 * <pre>{@code Map<String, Double> acc = DemoFinetune.finetuneAndScore(new Model("teacher", cfg, weights), 500, dir, out);}</pre>
 */
public final class DemoFinetune {
  public static final String TEACHER_MODEL = "configs/models/synth-teacher.yaml";
  public static final String STUDENT_MODEL = "configs/models/synth-student.yaml";
  public static final String PIPELINE = "data-pipelines/synthetic-vqa.yaml";

  /** One pre-trained model to fine-tune: its row label, model config and weights. */
  public record Model(String label, String config, Path weights) {
    /** The label as a file and run name: "student, no KD" → "student-no-kd". */
    public String slug() {
      return label.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("^-|-$", "");
    }
  }

  private DemoFinetune() {}

  /**
   * Fine-tunes one model into {@code dir} and scores its best validation checkpoint once on the test split.
   *
   * @return "open", "closed", "overall", "n", ... on the synthetic VQA test split
   */
  public static Map<String, Double> finetuneAndScore(Model m, int steps, Path dir, PrintStream out) {
    TaskConfig tc = config("demo-vqa-" + m.slug(), m.config(), steps);
    FinetuneRun.run(tc, null, m.weights(), dir, steps, List.of(), out);
    ModelConfig mc = ModelConfig.load(Path.of(m.config()));
    try (TaskData td = TaskData.open(tc, mc, dir)) {
      TaskGraph g = TaskGraph.inference(mc, TaskKind.VQA, td.outputs(TaskKind.VQA), td.textLen());
      FinetuneRun.loadInto(g.sd(), dir.resolve(RunDir.WEIGHTS));
      return Evaluator.vqa(g, td.data(), td.test(), 64, 2, dir.resolve("predictions.jsonl")).metrics();
    }
  }

  /** The majority answer of the train split, scored on the test split; {@code dir} takes the data cache. */
  public static Map<String, Double> majority(Path dir) {
    TaskConfig tc = config("demo-vqa-majority", STUDENT_MODEL, 1);
    try (TaskData td = TaskData.open(tc, ModelConfig.load(Path.of(STUDENT_MODEL)), dir)) {
      return Evaluator.majorityBaseline(td.data(), td.train(), td.test());
    }
  }

  /** The demo's fine-tuning settings (batch, learning rate, validation, collection): one file, like every run's. */
  public static final Path CONFIG = Path.of("configs/runs/vqa-synth-demo.yaml");

  static TaskConfig config(String name, String model, int steps) {
    return TaskConfig.load(CONFIG).forRun(name, model, steps);
  }

  /**
   * The demo's fine-tuning settings as a task config ({@link #config}), for callers outside this package that
   * fine-tune as the demo does (the {@code ablate} grids): run name, model config, maximum steps.
   */
  public static TaskConfig settings(String name, String model, int steps) {
    return config(name, model, steps);
  }
}
