package org.m3ae.ui;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs reopened from their files (finished, or training in another process) in the UI server, until closed. Numbers
 * come from each run's {@code metrics.jsonl}, which keeps being followed, so a run still training elsewhere keeps
 * updating.
 */
public final class RunViewer implements AutoCloseable {
  private final UiServer server;
  private final List<RunSource> runs = new ArrayList<>();
  private boolean closed;

  private RunViewer(UiServer server) {
    this.server = server;
  }

  /** @throws IllegalArgumentException if a run directory does not exist */
  public static RunViewer open(String host, int port, List<Path> runDirs) {
    for (Path d : runDirs) {
      if (!Files.isDirectory(d)) throw new IllegalArgumentException("not a run directory: " + d);
    }
    RunViewer v = new RunViewer(UiServer.acquire(host, port));
    for (Path d : runDirs) v.runs.add(RunRegistry.global().add(d, null));
    return v;
  }

  public String url() {
    return server.url() + M3aeUiModule.PAGE;
  }

  public int port() {
    return server.port();
  }

  /** Run ids as shown on the page, in the order given. */
  public List<String> runIds() {
    return runs.stream().map(RunSource::id).toList();
  }

  @Override
  public synchronized void close() {
    if (closed) return;
    closed = true;
    runs.forEach(RunRegistry.global()::remove);
    server.release();
  }
}
