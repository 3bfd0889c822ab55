package org.m3ae.ui;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.m3ae.ui.UiTestSupport.assertNoUiThreads;
import static org.m3ae.ui.UiTestSupport.assertPortFree;
import static org.m3ae.ui.UiTestSupport.await;
import static org.m3ae.ui.UiTestSupport.get;
import static org.m3ae.ui.UiTestSupport.getJson;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.m3ae.cli.Main;
import org.m3ae.cli.UiCommand;
import org.m3ae.train.MetricsJsonl;
import org.m3ae.train.StepMetrics;
import picocli.CommandLine;

/** {@code ui --run A --run B}: finished runs reopened side by side from their files, then stopped cleanly. */
class UiCommandTest {
  @TempDir Path tmp;

  @Test
  void reopensFinishedRunsSideBySideAndStopsCleanly() throws Exception {
    Path teacher = writeFinishedRun("teacher-tiny", 40, 1.0, false);
    Path student = writeFinishedRun("distill-tiny", 25, 3.0, true);
    byte[] graphBytes = {1, 2, 3, 4, 5, 42};
    Files.write(student.resolve(RunSource.UI_LISTENER_FILE), graphBytes);

    CommandLine cl = Main.commandLine();
    UiCommand ui = (UiCommand) cl.getSubcommands().get("ui").getCommand();
    AtomicInteger exit = new AtomicInteger(-1);
    Thread t = new Thread(() -> exit.set(cl.execute("ui", "--run", teacher.toString(), "--run", student.toString(),
        "--port", "0")), "ui-command");
    t.start();
    int port;
    try {
      await("ui command serving", 60_000, () -> ui.port() > 0 || !t.isAlive());
      port = ui.port();
      assertTrue(port > 0, "ui command ended early with exit " + exit.get());

      JsonNode runs = getJson(port, "/m3ae/api/runs").path("runs");
      assertEquals(2, runs.size());
      assertEquals("teacher-tiny", runs.get(0).path("id").asText());
      assertEquals("distill-tiny", runs.get(1).path("id").asText());
      assertEquals(false, runs.get(0).path("live").asBoolean());
      assertTrue(runs.get(0).path("graphFile").isNull());
      assertEquals(RunSource.UI_LISTENER_FILE, runs.get(1).path("graphFile").asText());

      for (Path dir : List.of(teacher, student)) {
        String id = dir.getFileName().toString();
        List<ObjectNode> file = MetricsJsonl.read(dir.resolve(MetricsJsonl.FILE));
        JsonNode rows = getJson(port, "/m3ae/api/runs/" + id + "/metrics").path("rows");
        assertEquals(file.size(), rows.size(), id);
        for (int i = 0; i < rows.size(); i++) assertEquals(file.get(i), rows.get(i), id + " line " + i);
      }
      JsonNode val = getJson(port, "/m3ae/api/runs/distill-tiny/metrics").path("rows").get(25);
      assertEquals("validation", val.path("event").asText());

      UiTestSupport.Response page = get(port, "/m3ae");
      assertEquals(200, page.status());
      assertTrue(page.text().contains("m3ae-distill · live training"));
      // The page's charting scripts come from DL4J's own asset route; a missing one would leave the page blank.
      assertEquals(200, get(port, "/assets/webjars/jquery/2.2.0/jquery.min.js").status());
      assertEquals(200, get(port, "/assets/webjars/flot/0.8.3/jquery.flot.js").status());

      assertArrayEquals(graphBytes, get(port, "/m3ae/api/runs/distill-tiny/uilistener").body());
      UiTestSupport.Response sd = get(port, "/m3ae/samediff/distill-tiny");
      assertEquals(200, sd.status());
      assertTrue(sd.text().contains("/m3ae/api/runs/distill-tiny/uilistener"));
      assertTrue(sd.text().contains("readGraphStructure()"));
      // Every script and style of the viewer must answer: DL4J's asset route never answers a missing file, and a
      // single hanging script keeps the page from ever finishing loading.
      java.util.regex.Matcher assets = java.util.regex.Pattern.compile("(?:src|href)=\"(/assets/[^\"]+)\"").matcher(sd.text());
      int checked = 0;
      while (assets.find()) {
        assertEquals(200, get(port, assets.group(1)).status(), assets.group(1));
        checked++;
      }
      assertTrue(checked > 20, "the viewer's assets were found in the page: " + checked);
      assertEquals(404, get(port, "/m3ae/samediff/teacher-tiny").status());
      assertEquals(404, get(port, "/m3ae/api/runs/nope/metrics").status());
      assertEquals(200, get(port, "/samediff").status(), "DL4J's stock pages are still served");
    } finally {
      ui.stop();
      t.join(30_000);
    }
    assertEquals(0, exit.get());
    assertPortFree(port);
    assertNoUiThreads();
  }

  @Test
  void aLongHistoryIsServedInPiecesThatJoinExactly() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("runs/long"));
    int n = M3aeUiModule.MAX_LINES_PER_RESPONSE + 7;
    StringBuilder sb = new StringBuilder();
    for (int s = 0; s < n; s++) sb.append("{\"step\":").append(s).append(",\"loss_total\":").append(1.0 / (s + 1)).append("}\n");
    Files.writeString(dir.resolve(MetricsJsonl.FILE), sb);
    try (RunViewer v = RunViewer.open("localhost", 0, List.of(dir))) {
      JsonNode first = getJson(v.port(), "/m3ae/api/runs/long/metrics?from=0");
      assertEquals(M3aeUiModule.MAX_LINES_PER_RESPONSE, first.path("rows").size());
      assertEquals(n, first.path("total").asInt());
      int next = first.path("next").asInt();
      JsonNode rest = getJson(v.port(), "/m3ae/api/runs/long/metrics?from=" + next + "&generation=" + first.path("generation").asInt());
      assertEquals(7, rest.path("rows").size());
      assertEquals(next, rest.path("rows").get(0).path("step").asInt());
      assertEquals(1.0 / n, rest.path("rows").get(6).path("loss_total").asDouble(), 0.0);
    }
  }

  @Test
  void missingRunDirectoryIsAnError() {
    CommandLine cl = Main.commandLine();
    java.io.StringWriter err = new java.io.StringWriter();
    cl.setErr(new java.io.PrintWriter(err));
    int code = cl.execute("ui", "--run", tmp.resolve("nope").toString(), "--port", "0");
    assertEquals(2, code);
    assertTrue(err.toString().contains("not a run directory"), err.toString());
  }

  private Path writeFinishedRun(String name, int steps, double start, boolean withValidation) throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("runs").resolve(name));
    MetricsJsonl w = new MetricsJsonl(dir);
    w.onStart(dir, 0, steps);
    for (int s = 0; s < steps; s++) {
      Map<String, Double> v = new LinkedHashMap<>();
      v.put("lr", 1e-4);
      v.put("loss_mlm", start / (1 + s));
      v.put("loss_total", 2 * start / (1 + s));
      w.onStep(new StepMetrics(StepMetrics.STEP, s, 1_000L * s, v));
    }
    if (withValidation) w.onValidation(new StepMetrics(StepMetrics.VALIDATION, steps - 1, 1_000L * steps, Map.of("val_acc", 0.5)));
    w.onEnd(steps - 1, null);
    return dir;
  }
}
