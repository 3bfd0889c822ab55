package org.m3ae.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.m3ae.data.BadRecordPolicy;
import org.m3ae.data.DataRecord;
import org.m3ae.data.config.PipelineLoader;
import org.m3ae.data.pipeline.DataPipeline;
import org.m3ae.model.ModelConfig;
import org.m3ae.testing.Edits;

/**
 * End to end on the tiny student and the embedded synthetic VQA set: carve a validation split, fine-tune two steps,
 * evaluate the test split into results.json / results.md, and answer a question through {@link Predictor}.
 */
class FinetuneEvaluateTest {
  @TempDir static Path dir;
  static TaskConfig tc;
  static Path run;
  static String log;

  /** The synthetic VQA pipeline without its val split, so that one is carved from train. */
  static String pipelineWithoutVal() {
    try {
      Path p = dir.resolve("synthetic-vqa-noval.yaml");
      String yaml = Files.readString(Path.of(DemoFinetune.PIPELINE));
      String noVal = Edits.replaceOnce(yaml, "  val: {files: [vqa_val.json]}\n", "");
      Files.writeString(p, noVal);
      return p.toString();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  static TaskConfig config(int steps) {
    return Configs.task(dir.resolve("vqa-test.yaml"), """
        name: vqa-test
        task: vqa
        model: %s
        init: none
        data: {pipeline: %s, workers: 2, on_bad_record: skip, train_split: train, val_fraction: 0.1, val_seed: 0, test_split: test}
        train: {epochs: 1, batch_size: 16, lr: 5.0e-4, lr_multipliers: {heads: 10}, weight_decay: 0.01, warmup: 0.1,
          clip_norm: 1.0, seed: 0, dropout: true, max_steps: %d}
        eval: {batch_size: 128}
        """.formatted(DemoFinetune.STUDENT_MODEL, pipelineWithoutVal(), steps));
  }

  @BeforeAll
  static void finetune() {
    tc = config(2);
    run = dir.resolve("run");
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    FinetuneRun.Result r = FinetuneRun.run(tc, null, null, run, null, List.of(), new PrintStream(buf, true));
    log = buf.toString();
    assertEquals(2, r.steps());
  }

  @Test
  void runDirectoryHoldsWhatEvaluateAndPredictNeed() throws Exception {
    for (String f : List.of("run.json", "task.json", "metrics.jsonl", "model.safetensors", "last.safetensors", "model.sdz")) {
      assertTrue(Files.isRegularFile(run.resolve(f)), f + "\n" + log);
    }
    JsonNode runJson = new ObjectMapper().readTree(run.resolve("run.json").toFile());
    assertEquals("finetune", runJson.get("kind").asText());
    assertTrue(runJson.get("validation").asText().contains("carved"), runJson.toString());
    // the validation event the UI reads
    boolean sawVal = false;
    for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) {
      JsonNode n = new ObjectMapper().readTree(line);
      if ("validation".equals(n.path("event").asText())) {
        sawVal = true;
        assertTrue(n.has("val_overall") && n.has("val_closed") && n.has("val_open"), line);
      }
    }
    assertTrue(sawVal, "no validation event in metrics.jsonl");
  }

  @Test
  void carvedValidationSplitIsDisjointFromTrainAndCoversIt() {
    ModelConfig m = ModelConfig.load(Path.of(DemoFinetune.STUDENT_MODEL));
    Set<String> original = new HashSet<>();
    try (DataPipeline d = DataPipeline.open(PipelineLoader.load(Path.of(tc.data().pipeline())), BadRecordPolicy.SKIP)) {
      for (DataRecord r : d.rawRecords("train")) original.add(r.id());
    }
    try (TaskData td = TaskData.open(tc, m, dir.resolve("carve"))) {
      Set<String> fit = new HashSet<>(), val = new HashSet<>();
      for (DataRecord r : td.data().rawRecords(td.train())) fit.add(r.id());
      for (DataRecord r : td.data().rawRecords(td.val())) val.add(r.id());
      assertEquals(Math.round(original.size() * 0.1), val.size());
      assertTrue(fit.stream().noneMatch(val::contains), "a question is in both train and val");
      Set<String> union = new HashSet<>(fit);
      union.addAll(val);
      assertEquals(original, union);
      // same seed, same carve
      try (TaskData again = TaskData.open(tc, m, dir.resolve("carve2"))) {
        Set<String> val2 = new HashSet<>();
        for (DataRecord r : again.data().rawRecords(again.val())) val2.add(r.id());
        assertEquals(val, val2);
      }
    }
  }

  @Test
  void validationOnTheTestSplitIsRefused() {
    TaskConfig bad = new TaskConfig("x", "vqa", DemoFinetune.STUDENT_MODEL, null,
        new TaskConfig.Data(DemoFinetune.PIPELINE, null, 2, BadRecordPolicy.SKIP, "train", "test", null, null, "test", null, null), tc.train(), null);
    Exception e = assertThrows(RuntimeException.class, () -> bad.validate("cfg.yaml"));
    assertTrue(e.getMessage().contains("data.val_split"), e.getMessage());
  }

  @Test
  void evaluateWritesResultsJsonAndMarkdown() throws Exception {
    Evaluation.Report r = Evaluation.run(tc, run, "test", dir.resolve("eval"), null, 0, true, new PrintStream(new ByteArrayOutputStream()));
    JsonNode j = new ObjectMapper().readTree(r.resultsJson().toFile());
    assertEquals("vqa", j.get("task").asText());
    assertEquals("test", j.get("split").asText());
    JsonNode m = j.get("metrics");
    for (String k : List.of("open", "closed", "overall")) {
      double v = m.get(k).asDouble();
      assertTrue(v >= 0 && v <= 1, k + " = " + v);
    }
    int n = m.get("n").asInt();
    assertEquals(n, m.get("n_closed").asInt() + m.get("n_open").asInt());
    double overall = (m.get("closed").asDouble() * m.get("n_closed").asInt() + m.get("open").asDouble() * m.get("n_open").asInt()) / n;
    assertEquals(overall, m.get("overall").asDouble(), 1e-9);
    try (DataPipeline d = DataPipeline.open(PipelineLoader.load(Path.of(tc.data().pipeline())), BadRecordPolicy.SKIP)) {
      assertEquals(d.rawRecords("test").size(), n, "every test question is in the denominator");
    }
    // The reported accuracies are what the per-question predictions say: recounted here from predictions.jsonl,
    // judging each line by its own predicted and gold answers rather than its "correct" flag.
    List<String> predictions = Files.readAllLines(dir.resolve("eval/predictions.jsonl"));
    assertEquals(n, predictions.size());
    int[] right = new int[2], total = new int[2]; // [open, closed]
    for (String line : predictions) {
      JsonNode p = new ObjectMapper().readTree(line);
      boolean ok = !p.has("unscored") && p.get("answer").asText().equals(p.path("predicted").asText(null));
      assertEquals(ok, p.get("correct").asBoolean(), line);
      int c = p.get("closed").asBoolean() ? 1 : 0;
      total[c]++;
      if (ok) right[c]++;
    }
    assertEquals(total[1], m.get("n_closed").asInt());
    assertEquals(total[0], m.get("n_open").asInt());
    assertTrue(total[0] > 0 && total[1] > 0, "both answer types are scored");
    assertEquals((double) right[1] / total[1], m.get("closed").asDouble(), 1e-12, "closed");
    assertEquals((double) right[0] / total[0], m.get("open").asDouble(), 1e-12, "open");
    assertEquals((double) (right[0] + right[1]) / n, m.get("overall").asDouble(), 1e-12, "overall");
    assertNotNull(j.get("others").get("majority answer (train)"));
    String md = Files.readString(dir.resolve("eval/results.md"));
    assertTrue(md.startsWith("| run | task | split | open | closed | overall |"), md);
    assertTrue(md.contains("| vqa-test | vqa | test |"), md);
  }

  @Test
  void predictorReturnsRankedAnswersWithProbabilities() throws Exception {
    Path image;
    try (DataPipeline d = DataPipeline.open(PipelineLoader.load(Path.of(tc.data().pipeline())), BadRecordPolicy.SKIP)) {
      image = d.rawRecords("test").get(0).image();
    }
    try (Predictor p = Predictor.open(run.resolve("model.sdz"))) {
      int all = p.manifest().labels().size();
      List<Predictor.Answer> a = p.predict(image, "is there a nodule on the left?", all);
      assertEquals(all, a.size());
      double sum = 0;
      for (int i = 0; i < a.size(); i++) {
        sum += a.get(i).probability();
        if (i > 0) assertTrue(a.get(i - 1).probability() >= a.get(i).probability(), "sorted by probability");
        assertEquals(p.manifest().labels().get(a.get(i).index()), a.get(i).answer());
      }
      assertEquals(1.0, sum, 1e-5);
      List<Predictor.Answer> top = p.predict(image, "is there a nodule on the left?", 3);
      assertEquals(a.subList(0, 3), top);
      String table = Predictor.toTable("q?", top);
      String[] lines = table.split("\n");
      assertEquals(5, lines.length, table);
      assertEquals("Q: q?", lines[0]);
      assertTrue(lines[1].startsWith("rank") && lines[1].trim().endsWith("probability"), table);
      assertTrue(lines[2].matches("1\\s+\\S.*\\s0\\.\\d{4}"), lines[2]);
      JsonNode j = new ObjectMapper().readTree(Predictor.toJson(image, "q?", top));
      assertEquals(3, j.get("answers").size());
      assertEquals(top.get(0).answer(), j.get("answers").get(0).get("answer").asText());
      assertThrows(IllegalArgumentException.class, () -> p.predict(image, " ", 3));
    }
    // the rebuilt graph from safetensors answers the same as the saved .sdz
    try (Predictor a = Predictor.open(run.resolve("model.sdz")); Predictor b = Predictor.open(run)) {
      assertEquals(a.predict(image, "what size is the cyst?", 2).get(0).probability(),
          b.predict(image, "what size is the cyst?", 2).get(0).probability(), 1e-5);
    }
  }

  @Test
  void predictorNamesAMissingManifest(@TempDir Path empty) throws Exception {
    Path f = empty.resolve("model.sdz");
    Files.writeString(f, "x");
    Exception e = assertThrows(IllegalArgumentException.class, () -> Predictor.open(f));
    assertTrue(e.getMessage().contains("task.json"), e.getMessage());
  }
}
