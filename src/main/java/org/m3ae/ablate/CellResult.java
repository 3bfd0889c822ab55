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
      default -> metric;
    };
  }

  /** The chance level of a metric: 1 / answers for VQA (a uniform guess over the answer vocabulary), 1/2 for ITM. */
  public double chance(String metric) {
    return metric.equals("itm_accuracy") ? 0.5 : 1.0 / answers;
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
