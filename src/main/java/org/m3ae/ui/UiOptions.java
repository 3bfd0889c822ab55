package org.m3ae.ui;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * {@code --ui}, {@code --ui-port}, {@code --ui-host} for training commands ({@code @Mixin UiOptions ui;}).
 * Localhost by default: the UI has no authentication, so on a remote GPU box reach it through an SSH tunnel
 * (docs/ui.md) rather than by binding a public interface.
 */
public final class UiOptions {
  @Option(names = "--ui", description = "Show the run live in the DL4J UI server (http://<ui-host>:<ui-port>/m3ae) while it trains.")
  boolean enabled;

  @Option(names = "--ui-port", defaultValue = "9000", paramLabel = "PORT",
      description = "Port of the UI server (default ${DEFAULT-VALUE}; 0 picks a free one).")
  int port;

  @Option(names = "--ui-host", defaultValue = "localhost", paramLabel = "HOST",
      description = "Address the UI server listens on (default ${DEFAULT-VALUE}; 0.0.0.0 for every interface).")
  String host;

  public boolean enabled() {
    return enabled;
  }

  public int port() {
    return port;
  }

  public String host() {
    return host;
  }

  /** Starts the UI for the run in {@code runDir}; without {@code --ui}, a session that does nothing. */
  public UiSession start(Path runDir) {
    return enabled ? UiSession.open(host, port, runDir) : UiSession.disabled(runDir);
  }
}
