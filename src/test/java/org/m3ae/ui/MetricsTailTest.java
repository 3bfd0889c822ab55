package org.m3ae.ui;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.m3ae.train.MetricsJsonl;
import org.m3ae.train.StepMetrics;

class MetricsTailTest {
  @TempDir Path dir;

  @Test
  void takesALineOnlyOnceItsNewlineIsWritten() throws Exception {
    Path f = dir.resolve(MetricsJsonl.FILE);
    MetricsTail t = new MetricsTail(f);
    t.poll();
    assertEquals(0, t.size(), "no file yet");
    Files.writeString(f, "{\"step\":0,\"loss_total\":1.5}\n{\"step\":1,\"loss_to", StandardCharsets.UTF_8);
    t.poll();
    assertEquals(List.of("{\"step\":0,\"loss_total\":1.5}"), t.linesFrom(0));
    Files.writeString(f, "tal\":1.25}\nnot json\n{\"nostep\":1}\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    t.poll();
    assertEquals(List.of("{\"step\":1,\"loss_total\":1.25}"), t.linesFrom(1));
    assertEquals(2, t.rejected());
    assertEquals(0, t.generation());
  }

  @Test
  void aResumedRunRewritingTheFileRestartsTheHistory() throws Exception {
    MetricsJsonl w = new MetricsJsonl(dir);
    w.onStart(dir, 0, 10);
    for (int s = 0; s < 6; s++) w.onStep(step(s, 10.0 + s));
    w.close();
    MetricsTail t = new MetricsTail(dir.resolve(MetricsJsonl.FILE));
    t.poll();
    assertEquals(6, t.size());

    MetricsJsonl resumed = new MetricsJsonl(dir); // resume from step 3: the writer drops steps 3..5
    resumed.onStart(dir, 3, 10);
    resumed.onStep(step(3, 99.0));
    resumed.close();
    t.poll();
    assertEquals(1, t.generation());
    assertEquals(4, t.size());
    assertEquals(MetricsJsonl.read(dir.resolve(MetricsJsonl.FILE)).toString(),
        "[" + String.join(", ", t.linesFrom(0)) + "]");
  }

  private static StepMetrics step(int s, double loss) {
    return new StepMetrics(StepMetrics.STEP, s, 1000L * s, Map.of("loss_total", loss));
  }
}
