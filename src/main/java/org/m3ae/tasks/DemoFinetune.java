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
 * The {@code demo} extension: fine-tunes the demo's tiny teacher and tiny student on the embedded synthetic VQA set
 * (same steps, same seed) and scores both on its test split, so the demo's final table can show teacher vs student
 * accuracy. Sized for about a minute per model on 2 idle cores (20 steps of 16 questions, validation once at the end).
 *
 * <pre>{@code Map<String, Map<String, Double>> acc = DemoFinetune.run(teacherWeights, studentWeights, System.out);}</pre>
 */
public final class DemoFinetune {
  public static final String TEACHER_MODEL = "configs/models/tiny-teacher.yaml";
  public static final String STUDENT_MODEL = "configs/models/tiny-student.yaml";
  public static final String PIPELINE = "data-pipelines/synthetic-vqa.yaml";

  private DemoFinetune() {}

  /**
   * @param teacherWeights model.safetensors of the demo's teacher pre-training (tiny-teacher)
   * @param studentWeights model.safetensors of the demo's distilled student (tiny-student)
   * @return "teacher" / "student" → {"open", "closed", "overall", "n", ...} on the synthetic VQA test split, plus
   *     "majority" for the majority-answer baseline
   */
  public static Map<String, Map<String, Double>> run(Path teacherWeights, Path studentWeights, PrintStream out) {
    return run(teacherWeights, studentWeights, 20, out);
  }

  public static Map<String, Map<String, Double>> run(Path teacherWeights, Path studentWeights, int steps, PrintStream out) {
    Path work;
    try {
      work = Files.createTempDirectory("m3ae-demo-vqa");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Map<String, Map<String, Double>> res = new LinkedHashMap<>();
    res.put("teacher", finetuneAndScore("demo-vqa-teacher", TEACHER_MODEL, teacherWeights, steps, work.resolve("teacher"), out));
    res.put("student", finetuneAndScore("demo-vqa-student", STUDENT_MODEL, studentWeights, steps, work.resolve("student"), out));
    TaskConfig tc = config("demo-vqa-majority", STUDENT_MODEL, steps);
    try (TaskData td = TaskData.open(tc, ModelConfig.load(Path.of(STUDENT_MODEL)), work.resolve("majority"))) {
      res.put("majority", Evaluator.majorityBaseline(td.data(), td.train(), td.test()));
    }
    out.println(table(res));
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

  /** Synthetic VQA at the tiny models' 64 px: lr 5e-4 as the tiny pre-training, heads ×10 and fusion ×5 (SPEC §5 ratios). */
  static TaskConfig config(String name, String model, int steps) {
    return new TaskConfig(name, "vqa", model, null,
        new TaskConfig.Data(PIPELINE, null, 2, "skip", "train", "val", null, null, "test", null),
        new TaskConfig.Train(100, 16, 1, 5e-4, Map.of("backbone", 1.0, "fusion", 5.0, "heads", 10.0), 0.01, null, 0.1, 1.0, 0L,
            true, steps, null, steps, false),
        new TaskConfig.Eval(64, null, null));
  }

  /** The Markdown table the demo prints: rows teacher / student / majority, columns open / closed / overall (%). */
  public static String table(Map<String, Map<String, Double>> res) {
    StringBuilder sb = new StringBuilder("| synthetic VQA (test) | open | closed | overall |\n|---|---:|---:|---:|\n");
    res.forEach((k, m) -> sb.append(String.format("| %s | %.1f | %.1f | %.1f |%n", k, 100 * m.get("open"), 100 * m.get("closed"), 100 * m.get("overall"))));
    return sb.toString();
  }
}
