package org.m3ae.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.m3ae.train.MetricsJsonl;
import org.m3ae.ui.RunViewer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ui}: serves finished or running runs from their files in the DL4J UI server until Ctrl-C. The server is
 * stopped by a shutdown hook, so the port is released and no thread is left when the process ends.
 */
@Command(name = "ui", mixinStandardHelpOptions = true,
    description = "Show runs (finished, or training in another process) in the DL4J UI server, read from their "
        + "metrics.jsonl; several --run side by side. Runs until Ctrl-C.")
public final class UiCommand implements Callable<Integer> {
  @Option(names = "--run", required = true, paramLabel = "DIR",
      description = "Run directory (runs/<name>); repeat for several runs.")
  List<Path> runs;

  @Option(names = "--port", defaultValue = "9000", description = "Port (default ${DEFAULT-VALUE}; 0 picks a free one).")
  int port;

  @Option(names = "--host", defaultValue = "localhost",
      description = "Address to listen on (default ${DEFAULT-VALUE}; see docs/ui.md for an SSH tunnel).")
  String host;

  /** Counted down when the server has stopped; tests stop the command through {@link #stop()}. */
  private final CountDownLatch stopped = new CountDownLatch(1);
  private volatile RunViewer viewer;

  @Override
  public Integer call() throws Exception {
    for (Path r : runs) {
      if (Files.isDirectory(r) && !Files.isRegularFile(r.resolve(MetricsJsonl.FILE))) {
        System.err.println("note: " + r + " has no " + MetricsJsonl.FILE + " yet; it will be charted once it appears");
      }
    }
    viewer = RunViewer.open(host, port, runs);
    if (stopped.getCount() == 0) { // stop() came while the server was starting
      viewer.close();
      return 0;
    }
    Thread hook = new Thread(this::stop, "m3ae-ui-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    System.out.println("DL4J UI server: " + viewer.url() + "  (runs: " + String.join(", ", viewer.runIds()) + ")");
    System.out.println("Ctrl-C to stop.");
    System.out.flush();
    stopped.await();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException shuttingDown) {
      // the hook itself stopped us: the JVM is exiting
    }
    return 0;
  }

  /** Stops the server; safe from a shutdown hook and from another thread. */
  public void stop() {
    RunViewer v = viewer;
    if (v != null) v.close();
    stopped.countDown();
  }

  /** The bound port once serving, else -1 (for tests that start it with {@code --port 0}). */
  public int port() {
    RunViewer v = viewer;
    return v == null ? -1 : v.port();
  }
}
