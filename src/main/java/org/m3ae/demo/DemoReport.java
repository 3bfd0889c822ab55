package org.m3ae.demo;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The demo's one table: per model VQA accuracy on the synthetic test split (open / closed / overall), its share of the
 * teacher's overall accuracy, ITM accuracy, parameters and inference ms per pair; the majority answer as the last row.
 *
 * @param rows teacher first: the shares are of its overall accuracy
 * @param majority the majority-answer baseline's VQA metrics, or null when nothing was fine-tuned
 */
public record DemoReport(List<Row> rows, Map<String, Double> majority, double minutes, Path out) {
  /**
   * @param vqa "open", "closed", "overall" on the test split (fractions), empty when not fine-tuned
   * @param itmAccuracy ITM accuracy on the test split's fixed pairs (fraction)
   */
  public record Row(String label, String model, Map<String, Double> vqa, double itmAccuracy, long parameters,
      double msPerPair) {}

  /** The teacher's overall VQA accuracy, NaN when not fine-tuned. */
  public double teacherOverall() {
    return rows.get(0).vqa().getOrDefault("overall", Double.NaN);
  }

  /** The Markdown table, then the closing line. */
  public String toMarkdown() {
    StringBuilder b = new StringBuilder();
    b.append("| synthetic test split | VQA open | VQA closed | VQA overall | share of teacher | ITM acc | parameters | ms/pair |\n");
    b.append("|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (Row r : rows) {
      b.append(String.format(Locale.ROOT, "| %s (%s) | %s | %s | %s | %s | %.1f %% | %,d | %.2f |%n", r.label(), r.model(),
          pct(r.vqa(), "open"), pct(r.vqa(), "closed"), pct(r.vqa(), "overall"), share(r.vqa()), 100 * r.itmAccuracy(),
          r.parameters(), r.msPerPair()));
    }
    if (majority != null) {
      b.append(String.format(Locale.ROOT, "| majority answer (train) | %s | %s | %s | %s | 50.0 %% (chance) | – | – |%n",
          pct(majority, "open"), pct(majority, "closed"), pct(majority, "overall"), share(majority)));
    }
    b.append(String.format(Locale.ROOT, "%ndemo finished in %.1f min; runs in %s (metrics.jsonl, checkpoints, "
        + "model.safetensors, model.sdz)%n", minutes, out));
    return b.toString();
  }

  private String share(Map<String, Double> vqa) {
    Double v = vqa.get("overall");
    double t = teacherOverall();
    return v == null || Double.isNaN(t) ? "–" : String.format(Locale.ROOT, "%.0f %%", 100 * v / t);
  }

  private static String pct(Map<String, Double> m, String key) {
    return m.containsKey(key) ? String.format(Locale.ROOT, "%.1f", 100 * m.get(key)) : "–";
  }
}
