package org.m3ae.tasks;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.m3ae.model.ModelConfig;
import org.m3ae.train.LrGroup;
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
      TaskGraph g = TaskGraph.build(mc, TaskKind.VQA, td.outputs(TaskKind.VQA), td.textLen(), false, 1, 0);
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

  /**
   * A JVM collection every 25 steps, not every step (the default): the demo runs two lanes in one JVM and a full
   * collection stops both; at every step they took half the wall time (docs/training.md, "Generator v4").
   */
  static final int GC_EVERY = 25;

  /**
   * Synthetic VQA: batch 64, lr 1e-3 as the synthetic pre-training, every group at ×1, validation every 50 steps on the
   * val split. Chosen on the val split (docs/training.md, "VQA on the synthetic set"): with batch 32 and heads ×5 the
   * closed questions stayed at their priors for 600 steps; batch 64 with ×1 leaves them at step ~400.
   */
  static TaskConfig config(String name, String model, int steps) {
    return new TaskConfig(name, "vqa", model, null,
        new TaskConfig.Data(PIPELINE, null, 2, "skip", "train", "val", null, null, "test", null, null),
        new TaskConfig.Train(1000, 64, 1, 1e-3, Map.of(LrGroup.BACKBONE, 1.0, LrGroup.FUSION, 1.0, LrGroup.HEADS, 1.0), 0.01, null,
            null, 0.1, 1.0, org.m3ae.train.NoDecay.NORMS_AND_GAINS, 0L, true, steps, null, 50, false, null, GC_EVERY),
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
