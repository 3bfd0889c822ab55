package org.m3ae.ablate;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A grid's results: every cell's scores, per variant the mean ± sd over seeds of each metric, the majority-answer
 * baseline and chance, and each variant's difference from the reference variant judged against the seeds' spread
 * (Welch's t). Written as {@code results.json}, {@code results.md} and one bar chart per metric.
 */
public final class GridReport {
  /** One variant's row: seeds finished and the summary of each metric. */
  public record Row(String label, int n, Map<String, SeedStats.Summary> stats) {}

  /** One variant against the reference on one metric. */
  public record Comparison(String variant, String reference, String metric, SeedStats.Welch welch) {}

  public final String grid;
  /** The metrics of the table: {@link CellResult#METRICS}, then the retrieval ones where the cells have them. */
  public final List<String> metrics;
  public final List<CellResult> cells;
  public final List<Row> rows;
  public final List<Comparison> comparisons;
  /** The majority-answer baseline per metric (VQA only) and chance per metric. */
  public final Map<String, Double> majority = new LinkedHashMap<>(), chance = new LinkedHashMap<>();

  public GridReport(String grid, List<String> labels, String reference, List<CellResult> cells) {
    this.grid = grid;
    this.cells = List.copyOf(cells);
    // every metric any cell has, in the first order met: the ICL-head scores exist only for runs with feature KD
    java.util.LinkedHashSet<String> names = new java.util.LinkedHashSet<>();
    for (CellResult c : cells) names.addAll(c.metricNames());
    this.metrics = cells.isEmpty() ? CellResult.METRICS : List.copyOf(names);
    List<Row> rows = new ArrayList<>();
    for (String label : labels) {
      List<CellResult> mine = cells.stream().filter(c -> c.variant().equals(label)).toList();
      Map<String, SeedStats.Summary> s = new LinkedHashMap<>();
      for (String m : metrics) {
        s.put(m, SeedStats.summary(mine.stream().map(c -> c.metrics().get(m)).filter(java.util.Objects::nonNull).toList()));
      }
      rows.add(new Row(label, mine.size(), s));
    }
    this.rows = List.copyOf(rows);
    List<Comparison> cmp = new ArrayList<>();
    Row ref = rows.stream().filter(r -> r.label().equals(reference)).findFirst().orElseThrow();
    for (Row r : rows) {
      if (r == ref) continue;
      for (String m : metrics) {
        // a metric one side does not have (the reference trained no ICL head) has nothing to compare
        if (r.stats().get(m).n() == 0 || ref.stats().get(m).n() == 0) continue;
        cmp.add(new Comparison(r.label(), ref.label(), m, SeedStats.welch(r.stats().get(m), ref.stats().get(m))));
      }
    }
    this.comparisons = List.copyOf(cmp);
    for (String m : metrics) {
      CellResult c = cells.stream().filter(x -> x.metrics().containsKey(m)).findFirst().orElse(null);
      if (c == null) continue; // no cells yet
      if (c.majority(m) != null) majority.put(m, c.majority(m));
      chance.put(m, c.chance(m));
    }
  }

  public ObjectNode json() {
    ObjectNode root = CellResult.JSON.createObjectNode();
    root.put("grid", grid);
    root.set("metrics", CellResult.JSON.valueToTree(metrics));
    ArrayNode vs = root.putArray("variants");
    for (Row r : rows) {
      ObjectNode v = vs.addObject().put("label", r.label()).put("n", r.n());
      ObjectNode mean = v.putObject("mean"), sd = v.putObject("sd");
      r.stats().forEach((m, s) -> {
        mean.put(m, s.mean());
        sd.put(m, s.sd());
      });
    }
    ObjectNode base = root.putObject("baselines");
    base.set("majority", CellResult.JSON.valueToTree(majority));
    base.set("chance", CellResult.JSON.valueToTree(chance));
    ArrayNode cs = root.putArray("comparisons");
    for (Comparison c : comparisons) {
      SeedStats.Welch w = c.welch();
      ObjectNode o = cs.addObject().put("variant", c.variant()).put("reference", c.reference()).put("metric", c.metric())
          .put("difference", w.diff());
      if (w.testable()) o.put("welch_t", w.t()).put("df", w.df()).put("t_critical_0.975", w.critical()).put("beyond_seed_noise", w.significant());
      else o.putNull("welch_t").put("beyond_seed_noise", (String) null);
    }
    root.set("cells", CellResult.JSON.valueToTree(cells));
    return root;
  }

  /** The Markdown table (in %) and one plain statement per comparison. */
  public String markdown() {
    StringBuilder b = new StringBuilder();
    b.append("# Ablation grid: ").append(grid).append("\n\n");
    CellResult any = cells.isEmpty() ? null : cells.get(0);
    if (any != null) {
      b.append(String.format(Locale.ROOT, "Test split, accuracy in %%, mean ± sd over seeds (sample sd, n − 1). VQA: %.0f questions "
              + "(%.0f closed, %.0f open), %d answers; ITM: %.0f held-out pairs of the pre-training data, half with their own image.%n%n",
          any.details().getOrDefault("vqa_n", Double.NaN), any.details().getOrDefault("vqa_n_closed", Double.NaN),
          any.details().getOrDefault("vqa_n_open", Double.NaN), any.answers(), any.details().getOrDefault("itm_pairs", Double.NaN)));
      if (any.details().containsKey("retrieval_images")) {
        b.append(String.format(Locale.ROOT, "Retrieval: the retrieval task's test split, %.0f images × %.0f texts, every pair scored by "
                + "the fine-tuned cross-encoder; R@K in %%, the chance row is the R@K of random scores on that split.%n%n",
            any.details().get("retrieval_images"), any.details().get("retrieval_texts")));
      }
      CellResult icl = cells.stream().filter(c -> c.details().containsKey("icl_images")).findFirst().orElse(null);
      if (icl != null) {
        b.append(String.format(Locale.ROOT, "ICL: the pre-trained vision tower and the ICL projection of each feature teacher, "
                + "%.0f images × %.0f captions of the feature_retrieval split ranked by cosine against that teacher's offline "
                + "caption features (evaluate-features); only variants that trained ICL have it (– elsewhere).%n%n",
            icl.details().get("icl_images"), icl.details().get("icl_texts")));
      }
    }
    b.append("| variant | n |");
    for (String m : metrics) b.append(' ').append(CellResult.title(m)).append(" |");
    b.append("\n|---|---:|");
    b.append("---:|".repeat(metrics.size())).append('\n');
    for (Row r : rows) {
      b.append("| ").append(r.label()).append(" | ").append(r.n()).append(" |");
      for (String m : metrics) {
        SeedStats.Summary s = r.stats().get(m);
        b.append(' ').append(s.n() == 0 ? "–" : String.format(Locale.ROOT, "%.1f ± %.1f", 100 * s.mean(), 100 * s.sd())).append(" |");
      }
      b.append('\n');
    }
    if (!majority.isEmpty()) b.append(baselineRow("majority answer (train)", majority));
    if (!chance.isEmpty()) b.append(baselineRow("chance", chance));
    if (any != null) {
      b.append(String.format(Locale.ROOT, "%nChance: a uniform guess over the %d answers (VQA), 50 %% (ITM). The seeds set "
          + "`train.seed` of pre-training and of fine-tuning; shared runs (the teacher) and the data are the same in every cell, "
          + "so the sd is the spread from initialisation and data order alone. It does not include the test sample's own "
          + "error: at 50 %% on %.0f questions a binomial standard error is ±%.1f points, on %.0f ITM pairs ±%.1f.%n",
          any.answers(), any.details().getOrDefault("vqa_n", Double.NaN), 100 * binomialSe(any.details().get("vqa_n")),
          any.details().getOrDefault("itm_pairs", Double.NaN), 100 * binomialSe(any.details().get("itm_pairs"))));
    }
    if (!comparisons.isEmpty()) {
      b.append("\n## Against \"").append(comparisons.get(0).reference()).append("\"\n\n");
      b.append("Two-sided Welch t-test at 5 % over seeds, each comparison on its own (no correction for the ")
          .append(comparisons.size()).append(" comparisons); \"beyond seed noise\" means |t| exceeds the Student-t 97.5 % "
              + "point at the Welch–Satterthwaite degrees of freedom.\n\n");
      for (Comparison c : comparisons) b.append("- ").append(statement(c)).append('\n');
    }
    return b.toString();
  }

  static double binomialSe(Double n) {
    return n == null || n <= 0 ? Double.NaN : Math.sqrt(0.25 / n);
  }

  private String baselineRow(String label, Map<String, Double> v) {
    StringBuilder b = new StringBuilder("| ").append(label).append(" | – |");
    for (String m : metrics) {
      Double x = v.get(m);
      b.append(' ').append(x == null ? "–" : String.format(Locale.ROOT, "%.1f", 100 * x)).append(" |");
    }
    return b.append('\n').toString();
  }

  /** e.g. "hidden only vs KD off, VQA overall: +1.2 points; |t| = 0.80 < 2.92 (df 3.7): within seed noise." */
  static String statement(Comparison c) {
    SeedStats.Welch w = c.welch();
    String head = String.format(Locale.ROOT, "%s vs %s, %s: %+.1f points", c.variant(), c.reference(), CellResult.title(c.metric()),
        100 * w.diff());
    if (w.testable()) {
      return head + String.format(Locale.ROOT, "; |t| = %.2f %s %.2f (df %.1f): %s.", Math.abs(w.t()), w.significant() ? ">" : "≤",
          w.critical(), w.df(), w.significant() ? "beyond seed noise" : "within seed noise");
    }
    if (Double.isNaN(w.diff())) return head + ": no finished seeds.";
    return head + (w.diff() == 0 ? "; no estimate of seed noise (fewer than two seeds, or no spread)." : "; no estimate of "
        + "seed noise (fewer than two seeds, or no spread in either variant), so no judgement.");
  }

  /** results.json, results.md and chart-METRIC.png in {@code out}. */
  public List<Path> write(Path out) {
    try {
      Files.createDirectories(out);
      List<Path> files = new ArrayList<>();
      Path json = out.resolve("results.json");
      CellResult.JSON.writeValue(json.toFile(), json());
      files.add(json);
      Path md = out.resolve("results.md");
      Files.writeString(md, markdown());
      files.add(md);
      for (String m : metrics) {
        Path png = out.resolve("chart-" + m + ".png");
        BarChart.write(this, m, png);
        files.add(png);
      }
      return files;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the results into " + out, e);
    }
  }
}
