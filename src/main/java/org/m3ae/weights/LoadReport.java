package org.m3ae.weights;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a load did, in PyTorch {@code strict=False} terms: loaded variables, missing ones (no rule
 * or no key: they keep their initial values) and unused checkpoint keys (SPEC §4).
 */
public final class LoadReport {

  /** One loaded variable and the key/transform it came from. */
  public record Loaded(String variable, String sourceKey, String how) {}

  /** A fixed constant compared with the checkpoint rather than loaded. */
  public record Checked(String variable, String sourceKey, double maxAbsDiff) {}

  private final String origin;
  final List<Loaded> loaded = new ArrayList<>();
  final Map<String, String> missing = new LinkedHashMap<>();
  final Map<String, String> unused = new LinkedHashMap<>();
  final List<Checked> checked = new ArrayList<>();
  long loadedValues;

  LoadReport(String origin) {
    this.origin = origin;
  }

  public String origin() {
    return origin;
  }

  public List<Loaded> loaded() {
    return Collections.unmodifiableList(loaded);
  }

  /** Graph variable → why it was not loaded. */
  public Map<String, String> missing() {
    return Collections.unmodifiableMap(missing);
  }

  /** Checkpoint key → why it is expected to be unused ("" when the map knows no reason). */
  public Map<String, String> unused() {
    return Collections.unmodifiableMap(unused);
  }

  public List<Checked> checked() {
    return Collections.unmodifiableList(checked);
  }

  /** Number of float values written into the graph. */
  public long loadedValues() {
    return loadedValues;
  }

  public String summary() {
    return "loaded=" + loaded.size() + " (" + loadedValues + " values) missing=" + missing.size()
        + " unused=" + unused.size();
  }

  /** Summary plus every missing and unused name; with {@code verbose} every loaded one too. */
  public void print(PrintStream out, boolean verbose) {
    out.println("weights: " + origin);
    out.println(summary());
    if (verbose) for (Loaded l : loaded) out.println("  loaded  " + l.variable + " <- " + l.sourceKey + " (" + l.how + ")");
    for (Checked c : checked) {
      out.println("  checked " + c.variable + " against " + c.sourceKey + ": max_abs_diff=" + c.maxAbsDiff);
    }
    missing.forEach((k, why) -> out.println("  missing " + k + " (" + why + ")"));
    unused.forEach((k, why) -> out.println("  unused  " + k + (why.isEmpty() ? "" : " (" + why + ")")));
  }
}
