package org.m3ae.tasks;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** {@code results.json} ({"task", "split", "metrics": {...}}) and a Markdown table beside it ({@code results.md}). */
public final class Results {
  private Results() {}

  public static Path write(Path dir, String name, TaskKind kind, String split, Map<String, Double> metrics,
      Map<String, String> info) {
    return write(dir, name, kind, split, metrics, Map.of(), info);
  }

  /** @param others further rows of the table (baselines, the fast retrieval mode), also under "others" in the JSON */
  public static Path write(Path dir, String name, TaskKind kind, String split, Map<String, Double> metrics,
      Map<String, Map<String, Double>> others, Map<String, String> info) {
    try {
      Files.createDirectories(dir);
      ObjectMapper om = new ObjectMapper();
      ObjectNode n = om.createObjectNode();
      n.put("name", name);
      n.put("task", kind.id());
      n.put("split", split);
      ObjectNode m = n.putObject("metrics");
      metrics.forEach((k, v) -> {
        if (v == null || v.isNaN()) m.putNull(k);
        else m.put(k, v);
      });
      if (!others.isEmpty()) {
        ObjectNode o = n.putObject("others");
        others.forEach((row, vals) -> {
          ObjectNode r = o.putObject(row);
          vals.forEach((k, v) -> {
            if (v == null || v.isNaN()) r.putNull(k);
            else r.put(k, v);
          });
        });
      }
      ObjectNode i = n.putObject("info");
      info.forEach(i::put);
      Path json = dir.resolve("results.json");
      Files.writeString(json, om.writerWithDefaultPrettyPrinter().writeValueAsString(n) + "\n");
      Files.writeString(dir.resolve("results.md"), markdown(name, kind, split, metrics, others, info));
      return json;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write results into " + dir, e);
    }
  }

  /** One header row of the metric names, one row of values (percent for rates, counts as integers). */
  public static String markdown(String name, TaskKind kind, String split, Map<String, Double> metrics,
      Map<String, Map<String, Double>> others, Map<String, String> info) {
    StringBuilder h = new StringBuilder("| run | task | split |"), sep = new StringBuilder("|---|---|---|"),
        row = new StringBuilder("| " + name + " | " + kind.id() + " | " + split + " |");
    metrics.forEach((k, v) -> {
      h.append(' ').append(k).append(" |");
      sep.append("---:|");
      row.append(' ').append(format(k, v)).append(" |");
    });
    StringBuilder sb = new StringBuilder(h).append('\n').append(sep).append('\n').append(row).append('\n');
    others.forEach((rowName, vals) -> {
      sb.append("| ").append(rowName).append(" | ").append(kind.id()).append(" | ").append(split).append(" |");
      metrics.keySet().forEach(k -> sb.append(' ').append(format(k, vals.get(k))).append(" |"));
      sb.append('\n');
    });
    if (!info.isEmpty()) {
      sb.append('\n');
      info.forEach((k, v) -> sb.append("- ").append(k).append(": ").append(v).append('\n'));
    }
    return sb.toString();
  }

  static String format(String key, Double v) {
    if (v == null || v.isNaN()) return "–";
    if (key.equals("n") || key.startsWith("n_")) return String.valueOf(Math.round(v));
    return String.format("%.2f", 100 * v);
  }
}
