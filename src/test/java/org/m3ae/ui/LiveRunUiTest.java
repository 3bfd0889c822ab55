package org.m3ae.ui;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.m3ae.ui.UiTestSupport.assertNoUiThreads;
import static org.m3ae.ui.UiTestSupport.assertPortFree;
import static org.m3ae.ui.UiTestSupport.await;
import static org.m3ae.ui.UiTestSupport.get;
import static org.m3ae.ui.UiTestSupport.getJson;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.deeplearning4j.ui.VertxUIServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.m3ae.train.MetricsJsonl;
import org.m3ae.train.StepMetrics;
import org.m3ae.train.TrainingListener;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * A run training in this JVM with {@code --ui}: while it is still writing, the page's API must return exactly the
 * values the run wrote to metrics.jsonl. The run is the training loop's own listeners (MetricsJsonl and the UI session's
 * listener) driven from a background thread the way the loop calls them, so the test decides when writing stops and
 * can run for many steps in seconds; {@link PretrainUiTest} runs the real {@code pretrain --ui}.
 */
class LiveRunUiTest {
  private static final String[] LOSSES = {"loss_mlm", "loss_mim", "loss_itm", "loss_hid", "loss_attn"};
  private static final int TOTAL_STEPS = 100_000; // never reached: the test ends the run itself

  @Command(name = "fake-train")
  static final class FakeTrainCommand {
    @Mixin UiOptions ui;
  }

  @TempDir Path tmp;

  @Test
  void servesTheLossesOfTheMetricsFileWhileTheRunGoesOn() throws Exception {
    Path runDir = tmp.resolve("runs/distill-sim");
    Files.createDirectories(runDir);
    Files.writeString(runDir.resolve("run.json"),
        "{\"name\":\"distill-sim\",\"kind\":\"pretrain\",\"model\":\"tiny-student\",\"config\":\"c.yaml\",\"started\":\"now\"}");
    FakeTrainCommand cmd = new FakeTrainCommand();
    new CommandLine(cmd).parseArgs("--ui", "--ui-port", "0");
    assertEquals("localhost", cmd.ui.host());

    List<StepMetrics> produced = new CopyOnWriteArrayList<>();
    AtomicBoolean stop = new AtomicBoolean();
    AtomicReference<Throwable> writerFailure = new AtomicReference<>();
    int port;
    try (UiSession session = cmd.ui.start(runDir)) {
      port = session.port();
      assertTrue(port > 0);
      assertTrue(session.url().endsWith(":" + port + "/m3ae"), session.url());
      Thread writer = new Thread(() -> simulateRun(runDir, session.listener(), produced, stop, writerFailure), "sim-run");
      writer.start();
      try {
        await("30 steps served", 30_000, () -> servedLines(port, "distill-sim") >= 30);
        // Read while the run is still writing: the writer has not been asked to stop yet.
        JsonNode m = getJson(port, "/m3ae/api/runs/distill-sim/metrics?from=0");
        JsonNode runs = getJson(port, "/m3ae/api/runs");
        assertTrue(writer.isAlive(), "the run must still be going while the UI is read");
        JsonNode run = runs.path("runs").get(0);
        assertEquals("distill-sim", run.path("id").asText());
        assertEquals("running", run.path("state").asText());
        assertEquals(TOTAL_STEPS, run.path("totalSteps").asInt());
        assertEquals("pretrain", run.path("info").path("kind").asText());

        List<ObjectNode> file = MetricsJsonl.read(runDir.resolve(MetricsJsonl.FILE));
        JsonNode rows = m.path("rows");
        assertTrue(rows.size() >= 30);
        assertTrue(file.size() >= rows.size(), "the file is ahead of or level with what was served");
        for (int i = 0; i < rows.size(); i++) {
          JsonNode served = rows.get(i);
          ObjectNode written = file.get(i);
          StepMetrics truth = produced.get(i);
          assertEquals(written.path("step").asInt(), served.path("step").asInt());
          assertEquals(truth.step(), served.path("step").asInt());
          for (String k : truth.values().keySet()) {
            double want = truth.get(k);
            if (Double.isNaN(want)) {
              assertEquals("NaN", served.path(k).asText(), k + " at step " + i);
            } else {
              assertEquals(written.path(k).asDouble(), served.path(k).asDouble(), 0.0, k + " at step " + i);
              assertEquals(want, served.path(k).asDouble(), 0.0, k + " at step " + i);
            }
          }
        }
        // Incremental reads continue where the last one ended, with no gap or overlap.
        int next = m.path("next").asInt();
        int gen = m.path("generation").asInt();
        await("more steps", 30_000, () -> servedLines(port, "distill-sim") > next + 5);
        JsonNode more = getJson(port, "/m3ae/api/runs/distill-sim/metrics?from=" + next + "&generation=" + gen);
        assertEquals(next, more.path("from").asInt());
        assertEquals(next, more.path("rows").get(0).path("step").asInt());
      } finally {
        stop.set(true);
        writer.join(30_000);
      }
      assertEquals(null, writerFailure.get());
      JsonNode after = getJson(port, "/m3ae/api/runs");
      assertEquals("finished", after.path("runs").get(0).path("state").asText());
      assertEquals(produced.size(), after.path("runs").get(0).path("lines").asInt());
    }
    assertPortFree(port);
    assertNoUiThreads();
    assertEquals(null, VertxUIServer.getInstance(), "DL4J's singleton is reset so a later start works");
  }

  @Test
  void listensOnLoopbackOnlyByDefault() throws Exception {
    InetAddress external = nonLoopbackAddress();
    Path runDir = Files.createDirectories(tmp.resolve("runs/r"));
    FakeTrainCommand cmd = new FakeTrainCommand();
    new CommandLine(cmd).parseArgs("--ui", "--ui-port", "0");
    try (UiSession s = cmd.ui.start(runDir)) {
      assertEquals(200, get(s.port(), "/m3ae").status());
      // The kernel's own table of listening sockets: every listener on this port is bound to 127.0.0.1. This holds
      // on machines without a non-loopback address too, where the connection check below cannot be made.
      List<String> listeners = listeningAddresses(s.port());
      assertTrue(!listeners.isEmpty(), "no listening socket found for port " + s.port() + " in /proc/net/tcp{,6}");
      for (String a : listeners) assertTrue(LOOPBACK_HEX.contains(a), "listening on " + a + " (hex), not loopback");
      if (external != null) {
        try (Socket sock = new Socket()) {
          sock.connect(new InetSocketAddress(external, s.port()), 2000);
          org.junit.jupiter.api.Assertions.fail("the UI answered on " + external + ", not only on loopback");
        } catch (java.io.IOException refused) {
          // expected: bound to localhost only
        }
      }
    }
  }

  /** 127.0.0.1, ::1 and ::ffff:127.0.0.1 as /proc/net/tcp and tcp6 print them. */
  private static final List<String> LOOPBACK_HEX = List.of(
      "0100007F", "00000000000000000000000001000000", "0000000000000000FFFF00000100007F");

  /** Local addresses (hex, as the kernel prints them) of IPv4 and IPv6 sockets listening on {@code port}. */
  private static List<String> listeningAddresses(int port) throws java.io.IOException {
    List<String> out = new java.util.ArrayList<>();
    String hexPort = String.format("%04X", port);
    List<String> lines = new java.util.ArrayList<>(Files.readAllLines(Path.of("/proc/net/tcp")));
    if (Files.exists(Path.of("/proc/net/tcp6"))) lines.addAll(Files.readAllLines(Path.of("/proc/net/tcp6")));
    for (String line : lines) {
      String[] f = line.trim().split("\\s+");
      if (f.length < 4 || !f[1].contains(":")) continue;
      String[] local = f[1].split(":");
      if (local[1].equals(hexPort) && f[3].equals("0A")) out.add(local[0]); // 0A = LISTEN
    }
    return out;
  }

  @Test
  void withoutUiFlagNothingStarts() throws Exception {
    FakeTrainCommand cmd = new FakeTrainCommand();
    new CommandLine(cmd).parseArgs();
    assertFalse(cmd.ui.enabled());
    assertEquals(9000, cmd.ui.port());
    try (UiSession s = cmd.ui.start(tmp)) {
      assertFalse(s.enabled());
      assertNotNull(s.listener());
      s.listener().onStart(tmp, 0, 10);
      assertEquals(null, VertxUIServer.getInstance());
    }
  }

  private static int servedLines(int port, String id) {
    try {
      return getJson(port, "/m3ae/api/runs/" + id + "/metrics?from=0").path("rows").size();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  /** The calls a training loop makes, in its order: metrics file first, then the UI's lifecycle listener. */
  private static void simulateRun(Path runDir, TrainingListener ui, List<StepMetrics> produced, AtomicBoolean stop,
      AtomicReference<Throwable> failure) {
    MetricsJsonl jsonl = new MetricsJsonl(runDir);
    List<TrainingListener> listeners = List.of(jsonl, ui);
    SplittableRandom rnd = new SplittableRandom(7);
    int step = 0;
    try {
      listeners.forEach(l -> l.onStart(runDir, 0, TOTAL_STEPS));
      for (; !stop.get(); step++) {
        final int s = step;
        listeners.forEach(l -> l.onStepStart(s));
        Map<String, Double> v = new LinkedHashMap<>();
        v.put("lr", 1e-4 * Math.min(1.0, (s + 1) / 50.0));
        v.put("lr_vision", 5e-5 * Math.min(1.0, (s + 1) / 50.0));
        v.put("mask_r", 0.75);
        double total = 0;
        for (String k : LOSSES) {
          double x = 2.0 * Math.exp(-s / 200.0) + 0.1 * rnd.nextDouble();
          v.put(k, x);
          total += x;
        }
        v.put("loss_total", total);
        v.put("pairs_per_s", 100 + rnd.nextDouble());
        v.put("grad_norm", s == 3 ? Double.NaN : 1 + rnd.nextDouble()); // NaN travels as the string "NaN"
        StepMetrics m = new StepMetrics(StepMetrics.STEP, s, System.currentTimeMillis(), v);
        produced.add(m);
        listeners.forEach(l -> l.onStep(m));
        Thread.sleep(15);
      }
      final int last = step - 1;
      listeners.forEach(l -> l.onEnd(last, null));
    } catch (Throwable t) {
      failure.set(t);
      final int last = step - 1;
      listeners.forEach(l -> l.onEnd(last, t));
    }
  }

  private static InetAddress nonLoopbackAddress() throws Exception {
    for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
      if (!ni.isUp() || ni.isLoopback()) continue;
      for (InetAddress a : Collections.list(ni.getInetAddresses())) {
        if (a instanceof Inet4Address && !a.isLoopbackAddress()) return a;
      }
    }
    return null;
  }
}
