package org.m3ae.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Appends every step and validation event to {@code <run>/metrics.jsonl}, one JSON object per line, flushed at once
 * so that a reader (the UI, a person with {@code tail -f}) sees each step as it happens. On resume, lines for steps
 * at or after the resumed step are dropped first, so the file never holds two histories.
 */
public final class MetricsJsonl implements TrainingListener, AutoCloseable {
  public static final String FILE = "metrics.jsonl";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path file;
  private BufferedWriter out;

  public MetricsJsonl(Path runDir) {
    this.file = runDir.resolve(FILE);
  }

  @Override
  public void onStart(Path runDir, int startStep, int totalSteps) {
    try {
      Files.createDirectories(file.getParent());
      if (Files.exists(file)) truncateFrom(startStep);
      out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open " + file, e);
    }
  }

  @Override
  public void onStep(StepMetrics m) {
    write(m);
  }

  @Override
  public void onValidation(StepMetrics m) {
    write(m);
  }

  private synchronized void write(StepMetrics m) {
    ObjectNode n = JSON.createObjectNode();
    if (!StepMetrics.STEP.equals(m.event())) n.put("event", m.event());
    n.put("step", m.step());
    n.put("time", m.timeMillis());
    m.values().forEach((k, v) -> {
      if (v == null || v.isNaN() || v.isInfinite()) n.put(k, String.valueOf(v));
      else n.put(k, v);
    });
    try {
      out.write(JSON.writeValueAsString(n));
      out.newLine();
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  private void truncateFrom(int startStep) throws IOException {
    List<String> kept = new ArrayList<>();
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      if (line.isBlank()) continue;
      try {
        if (JSON.readTree(line).path("step").asInt(Integer.MAX_VALUE) < startStep) kept.add(line);
      } catch (IOException partialLine) {
        // a line cut by a kill: drop it
      }
    }
    Path tmp = file.resolveSibling(FILE + ".tmp");
    Files.write(tmp, kept, StandardCharsets.UTF_8);
    Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  /** Reads a metrics file back (for the UI, tests and reports). */
  public static List<ObjectNode> read(Path file) throws IOException {
    List<ObjectNode> rows = new ArrayList<>();
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      if (line.isBlank()) continue;
      try {
        rows.add((ObjectNode) JSON.readTree(line));
      } catch (IOException partialLine) {
        // the last line may be half-written while the run goes on
      }
    }
    return rows;
  }

  @Override
  public synchronized void close() {
    try {
      if (out != null) out.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void onEnd(int lastStep, Throwable failure) {
    close();
  }
}
