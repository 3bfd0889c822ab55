package org.m3ae.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The demo's table from known figures: percentages, each row's share of the teacher, the baseline row. */
class DemoReportTest {
  private static Map<String, Double> acc(double open, double closed, double overall) {
    return Map.of("open", open, "closed", closed, "overall", overall);
  }

  @Test
  void tableShowsPercentagesAndSharesOfTheTeacher() {
    var r = new DemoReport(List.of(
        new DemoReport.Row("teacher", "synth-teacher", acc(0.823, 0.886, 0.848), 0.958, 538_391, 11.77),
        new DemoReport.Row("student, distilled", "synth-student", acc(0.808, 0.893, 0.842), 0.845, 304_919, 5.08),
        new DemoReport.Row("student, no KD", "synth-student", acc(0.761, 0.874, 0.806), 0.49, 304_919, 4.66)),
        acc(0.168, 0.475, 0.291), 12.6, Path.of("runs/demo"));
    String[] lines = r.toMarkdown().split("\n");
    assertEquals("| teacher (synth-teacher) | 82.3 | 88.6 | 84.8 | 100 % | 95.8 % | 538,391 | 11.77 |", lines[2]);
    // 0.842 / 0.848 = 99.3 %, 0.806 / 0.848 = 95.0 %, 0.291 / 0.848 = 34.3 %
    assertEquals("| student, distilled (synth-student) | 80.8 | 89.3 | 84.2 | 99 % | 84.5 % | 304,919 | 5.08 |", lines[3]);
    assertEquals("| student, no KD (synth-student) | 76.1 | 87.4 | 80.6 | 95 % | 49.0 % | 304,919 | 4.66 |", lines[4]);
    assertEquals("| majority answer (train) | 16.8 | 47.5 | 29.1 | 34 % | 50.0 % (chance) | – | – |", lines[5]);
    assertEquals("demo finished in 12.6 min; runs in runs/demo (metrics.jsonl, checkpoints, model.safetensors, model.sdz)", lines[7]);
  }

  @Test
  void withoutFineTuningTheVqaColumnsAreEmpty() {
    var r = new DemoReport(List.of(new DemoReport.Row("teacher", "synth-teacher", Map.of(), 0.9, 10, 1.0)), null, 1.0,
        Path.of("o"));
    String t = r.toMarkdown();
    assertTrue(t.contains("| teacher (synth-teacher) | – | – | – | – | 90.0 % | 10 | 1.00 |"), t);
    assertTrue(!t.contains("majority"), t);
  }
}
