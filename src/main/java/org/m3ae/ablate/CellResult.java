package org.m3ae.ablate;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one finished cell wrote to {@code cell.json}: its scores on the test split (VQA open / closed / overall, ITM
 * accuracy; fractions), the majority-answer baseline and the answer count of its fine-tuning data, what it was scored
 * on, and how long each stage took.
 */
public record CellResult(
    String variant,
    long seed,
    Map<String, Double> metrics,
    Map<String, Double> majority,
    int answers,
    Map<String, Double> details,
    Map<String, Double> seconds,
    String finished) {

  /** The metrics of every cell, in table order. */
  public static final List<String> METRICS = List.of("vqa_overall", "vqa_closed", "vqa_open", "itm_accuracy");
  /** The metrics a grid with a retrieval task adds (Metrics.recall's keys), after {@link #METRICS}. */
  public static final List<String> RETRIEVAL_METRICS = List.of("i2t_r1", "i2t_r5", "i2t_r10", "t2i_r1", "t2i_r5", "t2i_r10");
  /** {@code details} key prefix of a retrieval metric's chance level (R@K of random scores on the cell's split). */
  static final String CHANCE_PREFIX = "chance_";
  /** Key prefix of the R@10 through a feature teacher's ICL head ({@link GridConfig.FeatureRetrieval}). */
  static final String ICL_PREFIX = "icl_";

  /** e.g. {@code icl_bge_i2t_r10}: image → text R@10 through teacher bge's ICL head. */
  static String featureMetric(String teacher, String direction) {
    return ICL_PREFIX + teacher + "_" + direction + "_r10";
  }

  static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  public CellResult {
    metrics = new LinkedHashMap<>(metrics);
    majority = majority == null ? Map.of() : new LinkedHashMap<>(majority);
    details = details == null ? Map.of() : new LinkedHashMap<>(details);
    seconds = seconds == null ? Map.of() : new LinkedHashMap<>(seconds);
  }

  /** A metric's display name. */
  public static String title(String metric) {
    return switch (metric) {
      case "vqa_overall" -> "VQA overall";
      case "vqa_closed" -> "VQA closed";
      case "vqa_open" -> "VQA open";
      case "itm_accuracy" -> "ITM acc";
      default -> {
        if (metric.matches("(i2t|t2i)_r\\d+")) {
          yield (metric.startsWith("i2t") ? "image→text R@" : "text→image R@") + metric.substring(5);
        }
        if (metric.startsWith(ICL_PREFIX) && metric.matches(".*_(i2t|t2i)_r10")) {
          String rest = metric.substring(ICL_PREFIX.length());
          String teacher = rest.substring(0, rest.length() - "_i2t_r10".length());
          yield "ICL " + teacher + (rest.endsWith("_i2t_r10") ? " image→text R@10" : " text→image R@10");
        }
        yield metric;
      }
    };
  }

  /**
   * The chance level of a metric: 1 / answers for VQA (a uniform guess over the answer vocabulary), 1/2 for ITM, the
   * R@K of random scores for retrieval.
   */
  public double chance(String metric) {
    if (RETRIEVAL_METRICS.contains(metric) || metric.startsWith(ICL_PREFIX)) {
      return details.getOrDefault(CHANCE_PREFIX + metric, Double.NaN);
    }
    return metric.equals("itm_accuracy") ? 0.5 : 1.0 / answers;
  }

  /** The metrics this cell has, in table order: {@link #METRICS}, the retrieval task's, then the ICL heads' in run order. */
  public List<String> metricNames() {
    List<String> names = new java.util.ArrayList<>(
        java.util.stream.Stream.concat(METRICS.stream(), RETRIEVAL_METRICS.stream()).filter(metrics::containsKey).toList());
    for (String k : metrics.keySet()) if (k.startsWith(ICL_PREFIX)) names.add(k);
    return names;
  }

  /** The majority baseline of a metric (VQA: the most frequent train answer per answer type; ITM: none). */
  public Double majority(String metric) {
    return switch (metric) {
      case "vqa_overall" -> majority.get("overall");
      case "vqa_closed" -> majority.get("closed");
      case "vqa_open" -> majority.get("open");
      default -> null;
    };
  }

  public void write(Path file) {
    try {
      Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
      JSON.writeValue(tmp.toFile(), this);
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  public static CellResult read(Path file) {
    try {
      return JSON.readValue(file.toFile(), CellResult.class);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + " (delete it to rerun the cell)", e);
    }
  }
}
