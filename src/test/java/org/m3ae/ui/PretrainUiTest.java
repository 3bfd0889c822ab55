package org.m3ae.ui;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.m3ae.ui.UiTestSupport.assertNoUiThreads;
import static org.m3ae.ui.UiTestSupport.assertPortFree;
import static org.m3ae.ui.UiTestSupport.await;
import static org.m3ae.ui.UiTestSupport.getJson;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.m3ae.cli.Main;
import org.m3ae.train.MetricsJsonl;
import picocli.CommandLine;

/**
 * The real thing: {@code pretrain --config configs/runs/teacher-tiny.yaml --ui} in this JVM, read over HTTP while it
 * trains. Skipped (with the reason shown) until the pretrain command carries the {@code --ui} options; it takes a few
 * minutes on a busy 2-core machine (the first step builds the graph).
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
    int port = freePort();
    Path runDir = tmp.resolve("teacher-tiny");
    AtomicInteger exit = new AtomicInteger(-1);
    Thread run = new Thread(() -> exit.set(cl.execute("pretrain", "--config", CONFIG.toString(), "--steps", "3",
        "--out", runDir.toString(), "--ui", "--ui-port", String.valueOf(port))), "pretrain");
    run.start();
    try {
      await("the first step on the page", 600_000, () -> !run.isAlive() || served(port) >= 1);
      JsonNode rows = getJson(port, "/m3ae/api/runs/teacher-tiny/metrics").path("rows");
      JsonNode state = getJson(port, "/m3ae/api/runs").path("runs").get(0);
      assertTrue(run.isAlive(), "pretrain must still be training when the page is read (exit " + exit.get() + ")");
      assertEquals("running", state.path("state").asText());
      assertEquals(3, state.path("totalSteps").asInt());
      List<ObjectNode> file = MetricsJsonl.read(runDir.resolve(MetricsJsonl.FILE));
      assertTrue(rows.size() >= 1 && file.size() >= rows.size());
      for (int i = 0; i < rows.size(); i++) {
        for (String k : LOSSES) {
          assertTrue(file.get(i).path(k).isNumber(), k + " written at line " + i);
          assertEquals(file.get(i).path(k).asDouble(), rows.get(i).path(k).asDouble(), 0.0, k + " at line " + i);
        }
      }
    } finally {
      run.join(900_000);
    }
    assertEquals(0, exit.get());
    assertPortFree(port);
    assertNoUiThreads();
  }

  private static int served(int port) {
    try {
      return getJson(port, "/m3ae/api/runs/teacher-tiny/metrics").path("rows").size();
    } catch (IOException | AssertionError notYet) {
      return 0; // the server is not up yet, or the run is not registered yet
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      return s.getLocalPort();
    }
  }
}
