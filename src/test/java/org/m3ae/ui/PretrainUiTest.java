package org.m3ae.ui;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.m3ae.ui.UiTestSupport.assertNoUiThreads;
import static org.m3ae.ui.UiTestSupport.assertPortFree;
import static org.m3ae.ui.UiTestSupport.getJson;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.UnsynchronizedAppenderBase;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.m3ae.cli.Main;
import org.m3ae.train.MetricsJsonl;
import org.m3ae.train.ProgressListener;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;

/**
 * The real thing: {@code pretrain --config configs/runs/teacher-tiny.yaml --ui} in this JVM, read over HTTP while it
 * trains. The run is held after its first step until the page has been read: the training loop logs a step's progress
 * line after metrics.jsonl has the step and before the UI's lifecycle listener hears of it, and a log appender on that
 * logger blocks the training thread there. So the page is read while the run is alive, with exactly one step written,
 * whatever the machine's speed. It takes a few minutes on a busy 2-core machine (the first step builds the graph).
 */
class PretrainUiTest {
  private static final Path CONFIG = Path.of("configs/runs/teacher-tiny.yaml");
  private static final List<String> LOSSES = List.of("loss_mlm", "loss_mim", "loss_itm", "loss_total");

  @TempDir Path tmp;

  @Test
  void tinyPretrainServesTheLossesItWritesWhileItTrains() throws Exception {
    CommandLine cl = Main.commandLine();
    CommandLine pretrain = cl.getSubcommands().get("pretrain");
    assertTrue(pretrain != null && pretrain.getCommandSpec().findOption("--ui") != null, "pretrain has no --ui option");
    assertTrue(Files.isRegularFile(CONFIG), CONFIG + " missing");
    assertNull(System.console(), "the gate needs ProgressListener's plain log lines, not its terminal progress bar");
    int port = freePort();
    Path runDir = tmp.resolve("teacher-tiny");
    AtomicInteger exit = new AtomicInteger(-1);
    Thread run = new Thread(() -> exit.set(cl.execute("pretrain", "--config", CONFIG.toString(), "--steps", "3",
        "--out", runDir.toString(), "--ui", "--ui-port", String.valueOf(port))), "pretrain");
    CountDownLatch firstStep = new CountDownLatch(1), release = new CountDownLatch(1);
    Logger progress = (Logger) LoggerFactory.getLogger(ProgressListener.class);
    UnsynchronizedAppenderBase<ILoggingEvent> gate = new UnsynchronizedAppenderBase<>() {
      @Override
      protected void append(ILoggingEvent e) {
        if (Thread.currentThread() != run || !e.getFormattedMessage().startsWith("step 1/")) return;
        firstStep.countDown();
        try {
          release.await(10, TimeUnit.MINUTES);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
        }
      }
    };
    gate.setContext(progress.getLoggerContext());
    gate.start();
    progress.addAppender(gate);
    run.start();
    try {
      while (!firstStep.await(1, TimeUnit.SECONDS)) {
        assertTrue(run.isAlive(), "pretrain ended before its first step (exit " + exit.get() + ")");
      }
      // held: step 0 is in metrics.jsonl, the run has not finished
      JsonNode rows = getJson(port, "/m3ae/api/runs/teacher-tiny/metrics").path("rows");
      JsonNode state = getJson(port, "/m3ae/api/runs").path("runs").get(0);
      assertEquals("running", state.path("state").asText());
      assertEquals(3, state.path("totalSteps").asInt());
      List<ObjectNode> file = MetricsJsonl.read(runDir.resolve(MetricsJsonl.FILE));
      assertEquals(1, file.size(), "metrics.jsonl while held after the first step");
      assertEquals(1, rows.size(), rows.toString());
      for (String k : LOSSES) {
        assertTrue(file.get(0).path(k).isNumber(), k + " written");
        assertEquals(file.get(0).path(k).asDouble(), rows.get(0).path(k).asDouble(), 0.0, k);
      }
    } finally {
      release.countDown();
      run.join(900_000);
      progress.detachAppender(gate);
      gate.stop();
    }
    assertEquals(0, exit.get());
    assertPortFree(port);
    assertNoUiThreads();
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      return s.getLocalPort();
    }
  }
}
