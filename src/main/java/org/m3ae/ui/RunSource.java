package org.m3ae.ui;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.m3ae.train.RunDir;

/**
 * One run shown in the UI: its directory, the tail of its {@code metrics.jsonl}, its {@code run.json} description if
 * the trainer wrote one, and, for a run training in this JVM, its lifecycle.
 */
final class RunSource {
  /** Where a run's SameDiff {@code UIListener} file is looked for first (see {@link UiSession#uiListenerFile()}). */
  static final String UI_LISTENER_FILE = "samediff-ui.bin";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String id;
  private final Path dir;
  private final MetricsTail tail;
  private final RunLifecycle lifecycle;

  RunSource(String id, Path dir, RunLifecycle lifecycle) {
    this.id = id;
    this.dir = dir.toAbsolutePath().normalize();
    this.tail = new MetricsTail(new RunDir(this.dir).metrics());
    this.lifecycle = lifecycle;
  }

  String id() { return id; }
  Path dir() { return dir; }
  MetricsTail tail() { return tail; }

  /** Null for a run reopened from its files. */
  RunLifecycle lifecycle() { return lifecycle; }

  /** The run's {@code run.json}, or null when it is missing or unreadable (older runs, or not written yet). */
  JsonNode runJson() {
    Path f = new RunDir(dir).runJson();
    if (!Files.isRegularFile(f)) return null;
    try {
      JsonNode n = JSON.readTree(f.toFile());
      return n != null && n.isObject() ? n : null;
    } catch (IOException unreadable) {
      return null;
    }
  }

  /**
   * The SameDiff {@code UIListener} file of this run: {@value #UI_LISTENER_FILE} if present, else the first
   * {@code *.uil} file in the run directory; null when the run wrote none.
   */
  Path uiListenerFile() {
    Path preferred = dir.resolve(UI_LISTENER_FILE);
    if (Files.isRegularFile(preferred)) return preferred;
    if (!Files.isDirectory(dir)) return null;
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.uil")) {
      Path first = null;
      for (Path p : ds) {
        if (Files.isRegularFile(p) && (first == null || p.getFileName().compareTo(first.getFileName()) < 0)) first = p;
      }
      return first;
    } catch (IOException unreadable) {
      return null;
    }
  }

  /** Milliseconds since {@code metrics.jsonl} last changed, or -1 if it does not exist. */
  long millisSinceLastWrite() {
    try {
      return Math.max(0, System.currentTimeMillis() - Files.getLastModifiedTime(tail.file()).toMillis());
    } catch (IOException missing) {
      return -1;
    }
  }
}
