package org.m3ae.ui;

import java.nio.file.Path;
import org.m3ae.train.TrainingListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A run shown live in the DL4J UI server for as long as the session is open. Closing it removes the run from the page
 * and releases the server (which stops when no one else uses it). A disabled session ({@code --ui} off) does nothing.
 */
public final class UiSession implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(UiSession.class);
  private static final TrainingListener NONE = new TrainingListener() {};

  private final UiServer server;
  private final RunSource run;
  private final Path runDir;
  private boolean closed;

  private UiSession(UiServer server, RunSource run, Path runDir) {
    this.server = server;
    this.run = run;
    this.runDir = runDir;
  }

  static UiSession disabled(Path runDir) {
    return new UiSession(null, null, runDir);
  }

  /** Starts (or joins) the server on {@code host:port} and shows the run in {@code runDir} live. */
  public static UiSession open(String host, int port, Path runDir) {
    UiServer server = UiServer.acquire(host, port);
    try {
      RunSource run = RunRegistry.global().add(runDir, new RunLifecycle());
      UiSession s = new UiSession(server, run, runDir);
      log.info("live training charts: {}", s.url());
      return s;
    } catch (RuntimeException e) {
      server.release();
      throw e;
    }
  }

  public boolean enabled() {
    return server != null;
  }

  /**
   * Register this with the training loop: it tells the page where the run stands (running, finished, failed, planned
   * steps, last checkpoint). The charted numbers come from {@code metrics.jsonl}, not from this listener. Never null:
   * a disabled session returns a listener that does nothing.
   */
  public TrainingListener listener() {
    return enabled() ? run.lifecycle() : NONE;
  }

  /**
   * Where a SameDiff {@code UIListener} for this run should write ({@code UIListener.builder(file)}) so that the run
   * page links its graph view; any {@code *.uil} file in the run directory is found as well.
   */
  public Path uiListenerFile() {
    return runDir.resolve(RunSource.UI_LISTENER_FILE);
  }

  /** The run's page, or null when disabled. */
  public String url() {
    return enabled() ? server.url() + M3aeUiModule.PAGE : null;
  }

  /** The bound port, or -1 when disabled (useful with {@code --ui-port 0}). */
  public int port() {
    return enabled() ? server.port() : -1;
  }

  @Override
  public synchronized void close() {
    if (closed || !enabled()) return;
    closed = true;
    RunRegistry.global().remove(run);
    server.release();
  }
}
