package org.m3ae.ui;

import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.io.File;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.deeplearning4j.ui.VertxUIServer;
import org.deeplearning4j.ui.model.storage.InMemoryStatsStorage;
import org.deeplearning4j.ui.model.storage.impl.SbeStorageMetaData;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one DL4J UI server of this JVM, started on a host and port and shared by whoever needs it (a training command,
 * the {@code ui} command, tests), stopped when its last user releases it.
 *
 * <p>DL4J keeps its server in a static singleton ({@code VertxUIServer.instance}, what {@code UIServer.getInstance()}
 * returns and what its Training tab calls back into), so there can only be one per JVM. Asking for a second
 * host/port while one runs is an error rather than a silent reuse of the wrong address.
 *
 * <p>Stopping leaves nothing behind, which DL4J's own {@code stopInstance()} does not guarantee: its event-routing
 * thread waits on a queue and only notices the stop flag after one more event, so it would stay parked forever.
 * {@link #release()} posts that event through a private storage attached for the purpose, then waits for that thread
 * and for the Vert.x threads this server started to end, and removes the empty upload directory the server creates.
 */
public final class UiServer {
  private static final Logger log = LoggerFactory.getLogger(UiServer.class);
  private static final String WAKE_SESSION = "m3ae-ui-wakeup";
  private static final long START_TIMEOUT_S = 60;
  private static final long STOP_TIMEOUT_MS = 15_000;

  private static UiServer current;
  private static int users;

  private final String host;
  private final int port;
  private final HostBoundUIServer server;
  private final Vertx vertx;
  private final InMemoryStatsStorage wake;
  private final Set<Long> threadsBefore;
  private final long startedMillisFrom;
  private final long startedMillisTo;

  private UiServer(String host, int port, HostBoundUIServer server, Vertx vertx, InMemoryStatsStorage wake,
      Set<Long> threadsBefore, long from, long to) {
    this.host = host;
    this.port = port;
    this.server = server;
    this.vertx = vertx;
    this.wake = wake;
    this.threadsBefore = threadsBefore;
    this.startedMillisFrom = from;
    this.startedMillisTo = to;
  }

  /**
   * Starts the server on {@code host:port} (port 0: any free port), or joins the one already running there. Each
   * call must be matched by one {@link #release()}.
   */
  public static synchronized UiServer acquire(String host, int port) {
    if (current != null) {
      if (current.host.equals(host) && (port == 0 || port == current.port)) {
        users++;
        return current;
      }
      throw new IllegalStateException("the DL4J UI server is one per JVM and already serves " + current.url()
          + "; cannot also serve " + host + ":" + port);
    }
    VertxUIServer foreign = VertxUIServer.getInstance();
    if (foreign != null && !foreign.isStopped()) {
      throw new IllegalStateException("a DL4J UI server not started by m3ae already runs in this JVM at "
          + foreign.getAddress());
    }
    current = start(host, port);
    users = 1;
    return current;
  }

  /** Stops the server once every user has released it; returns when its port and threads are gone. */
  public void release() {
    synchronized (UiServer.class) {
      if (current != this || users <= 0) return;
      if (--users > 0) return;
      current = null;
    }
    shutdown(server, vertx, wake, threadsBefore, startedMillisFrom, startedMillisTo);
    log.info("UI server on {}:{} stopped", host, port);
  }

  public String host() {
    return host;
  }

  /** The port actually bound (differs from the requested one when that was 0). */
  public int port() {
    return port;
  }

  /** Base URL for a browser on this machine (a wildcard bind address shows as this machine's name). */
  public String url() {
    String h = host;
    if (h.equals("0.0.0.0") || h.equals("::") || h.equals("[::]")) {
      try {
        h = InetAddress.getLocalHost().getHostName();
      } catch (UnknownHostException e) {
        h = "localhost";
      }
    } else if (h.contains(":") && !h.startsWith("[")) {
      h = "[" + h + "]";
    }
    return "http://" + h + ":" + port;
  }

  private static UiServer start(String host, int port) {
    if (port < 0 || port > 65535) throw new IllegalArgumentException("UI port out of range: " + port);
    Set<Long> before = liveThreadIds();
    long from = System.currentTimeMillis();
    HostBoundUIServer s = new HostBoundUIServer(host, port);
    InMemoryStatsStorage wake = new InMemoryStatsStorage();
    s.attach(wake);
    Vertx vertx = Vertx.vertx(new VertxOptions()
        // One verticle, one HTTP server: one event loop is all it uses.
        .setEventLoopPoolSize(1)
        // DL4J builds its modules (templates, i18n) on the event loop at start: seconds on a busy training box,
        // which Vert.x would report as a blocked thread every second.
        .setMaxEventLoopExecuteTime(TimeUnit.SECONDS.toNanos(30)));
    CompletableFuture<String> deployed = new CompletableFuture<>();
    vertx.deployVerticle(s, ar -> {
      if (ar.succeeded()) deployed.complete(ar.result());
      else deployed.completeExceptionally(ar.cause());
    });
    try {
      deployed.get(START_TIMEOUT_S, TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException | InterruptedException e) {
      Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
      s.stop(Promise.promise()); // marks DL4J's server stopped: a failed deployment never runs its stop hook
      shutdown(s, vertx, wake, before, from, System.currentTimeMillis());
      if (e instanceof InterruptedException) Thread.currentThread().interrupt();
      throw new IllegalStateException("cannot start the DL4J UI server on " + host + ":" + port + ": " + rootMessage(cause), cause);
    }
    long to = System.currentTimeMillis();
    if (!s.boundAsAsked()) {
      shutdown(s, vertx, wake, before, from, to);
      throw new IllegalStateException("this DL4J version opened its UI port in a way m3ae does not control; "
          + "refusing to run it (it might listen on every network interface)");
    }
    return new UiServer(host, s.getPort(), s, vertx, wake, before, from, to);
  }

  private static void shutdown(HostBoundUIServer s, Vertx vertx, InMemoryStatsStorage wake, Set<Long> before, long from, long to) {
    List<Thread> ours = new ArrayList<>();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (!before.contains(t.getId()) && isServerThread(t)) ours.add(t);
    }
    try {
      if (VertxUIServer.getInstance() == s) VertxUIServer.stopInstance();
      else s.stop();
    } catch (Exception e) {
      log.warn("stopping the DL4J UI server: {}", e.toString());
    }
    // DL4J closes Vert.x through the verticle; after a failed start it never got that far, so close it here too.
    CompletableFuture<Void> closed = new CompletableFuture<>();
    vertx.close(ar -> closed.complete(null));
    try {
      closed.get(STOP_TIMEOUT_MS, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      log.warn("closing Vert.x: {}", e.toString());
    }
    // Wakes DL4J's event-routing thread, which re-checks its stop flag only after an event.
    wake.putStorageMetaData(new SbeStorageMetaData(System.currentTimeMillis(), WAKE_SESSION, WAKE_SESSION, WAKE_SESSION,
        WAKE_SESSION, WAKE_SESSION));
    long deadline = System.currentTimeMillis() + STOP_TIMEOUT_MS;
    for (Thread t : ours) {
      try {
        t.join(Math.max(1, deadline - System.currentTimeMillis()));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
      if (t.isAlive()) log.warn("UI server thread {} still alive after stop", t.getName());
    }
    removeUploadDirs(from, to);
  }

  private static boolean isServerThread(Thread t) {
    if (t.getName().startsWith("vert.x-")) return true;
    for (StackTraceElement e : t.getStackTrace()) {
      if (e.getClassName().startsWith(VertxUIServer.class.getName() + "$")) return true;
    }
    return false;
  }

  private static Set<Long> liveThreadIds() {
    Set<Long> ids = new HashSet<>();
    for (Thread t : Thread.getAllStackTraces().keySet()) ids.add(t.getId());
    return ids;
  }

  /** DL4J's server makes {@code $TMPDIR/DL4JUI_<millis>} for uploads at each start and never removes it. */
  private static void removeUploadDirs(long from, long to) {
    File[] dirs = new File(System.getProperty("java.io.tmpdir")).listFiles((d, n) -> n.startsWith("DL4JUI_"));
    if (dirs == null) return;
    for (File d : dirs) {
      try {
        long t = Long.parseLong(d.getName().substring("DL4JUI_".length()));
        String[] content = d.list();
        if (t >= from && t <= to && content != null && content.length == 0 && !d.delete()) {
          log.debug("could not remove {}", d);
        }
      } catch (NumberFormatException notOurs) {
        // another tool's directory with the same prefix
      }
    }
  }

  private static String rootMessage(Throwable t) {
    Throwable r = t;
    while (r.getCause() != null && r.getCause() != r) r = r.getCause();
    return r.getMessage() == null ? r.toString() : r.getMessage();
  }
}
