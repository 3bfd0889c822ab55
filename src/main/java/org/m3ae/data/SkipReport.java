package org.m3ae.data;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Applies the bad-record policy and counts what {@code skip} dropped, by split and reason, so an
 * epoch is never silently shorter. Thread-safe: prefetch workers report image failures here.
 */
public final class SkipReport {

  private static final int EXAMPLES_PER_REASON = 5;

  private final BadRecordPolicy policy;
  private final Map<String, Map<BadRecordReason, Integer>> counts = new LinkedHashMap<>();
  private final Map<BadRecordReason, List<String>> examples = new EnumMap<>(BadRecordReason.class);

  public SkipReport(BadRecordPolicy policy) {
    this.policy = policy;
  }

  public BadRecordPolicy policy() {
    return policy;
  }

  /** Records a bad record; under {@code fail} throws {@link BadRecordException} instead. */
  public synchronized void bad(String split, BadRecordReason reason, String location, String detail) {
    if (policy == BadRecordPolicy.FAIL) throw new BadRecordException(reason, location, detail);
    counts.computeIfAbsent(split, k -> new EnumMap<>(BadRecordReason.class)).merge(reason, 1, Integer::sum);
    List<String> ex = examples.computeIfAbsent(reason, k -> new ArrayList<>());
    if (ex.size() < EXAMPLES_PER_REASON) ex.add(location + ": " + detail);
  }

  /** Records filtered out by design (e.g. non-English SLAKE questions): counted, never an error. */
  public synchronized void filtered(String split, String location, String detail) {
    counts.computeIfAbsent(split, k -> new EnumMap<>(BadRecordReason.class)).merge(BadRecordReason.FILTERED, 1, Integer::sum);
  }

  public synchronized int count(String split, BadRecordReason reason) {
    return counts.getOrDefault(split, Map.of()).getOrDefault(reason, 0);
  }

  public synchronized int total(String split) {
    return counts.getOrDefault(split, Map.of()).entrySet().stream()
        .filter(e -> e.getKey() != BadRecordReason.FILTERED).mapToInt(Map.Entry::getValue).sum();
  }

  public synchronized Map<String, Map<String, Integer>> snapshot() {
    Map<String, Map<String, Integer>> out = new LinkedHashMap<>();
    counts.forEach((split, m) -> {
      Map<String, Integer> mm = new LinkedHashMap<>();
      m.forEach((r, n) -> mm.put(r.name().toLowerCase(java.util.Locale.ROOT), n));
      out.put(split, mm);
    });
    return out;
  }

  /** The end-of-run summary printed by every command. */
  public synchronized String summary() {
    if (counts.values().stream().allMatch(Map::isEmpty)) return "bad records: none";
    StringBuilder sb = new StringBuilder("bad records (policy " + policy.name().toLowerCase(java.util.Locale.ROOT) + "):\n");
    counts.forEach((split, m) -> m.forEach((r, n) -> sb.append(String.format("  %-6s %-48s %d%n", split, r.label(), n))));
    examples.forEach((r, ex) -> ex.forEach(e -> sb.append("    e.g. ").append(e).append('\n')));
    return sb.toString().stripTrailing();
  }

  /** The file {@link #write} writes. */
  public static final String FILE = "bad-records.json";

  /** Writes {@code bad-records.json} into {@code dir} (next to a run's metrics). */
  public synchronized Path write(Path dir) throws IOException {
    Files.createDirectories(dir);
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("policy", policy.name().toLowerCase(java.util.Locale.ROOT));
    doc.put("skipped", snapshot());
    Map<String, List<String>> ex = new LinkedHashMap<>();
    examples.forEach((r, l) -> ex.put(r.name().toLowerCase(java.util.Locale.ROOT), l));
    doc.put("examples", ex);
    Path f = dir.resolve(FILE);
    new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(f.toFile(), doc);
    return f;
  }
}
