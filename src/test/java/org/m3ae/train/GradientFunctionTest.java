package org.m3ae.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@link GradientFunction#build}: SameDiff's per-op "Added differentiated op" lines never reach standard output, other
 * lines written meanwhile do, and builds from several threads at once leave {@code System.out} as it was (an earlier
 * version saved and restored the stream per call, so two concurrent runs could leave it muted for good).
 */
class GradientFunctionTest {

  private static SameDiff graph(int depth) {
    SameDiff sd = SameDiff.create();
    SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, 3);
    SDVariable h = x.mmul(sd.var("w", Nd4j.rand(DataType.FLOAT, 3, 3)));
    for (int i = 0; i < depth; i++) h = sd.math.tanh(h);
    sd.sum("loss", h);
    sd.setLossVariables("loss");
    return sd;
  }

  @Test
  void dropsSameDiffsLinesKeepsOthersAndRestoresStdoutUnderConcurrentBuilds() throws Exception {
    PrintStream real = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    PrintStream capture = new PrintStream(captured, true, StandardCharsets.UTF_8);
    System.setOut(capture);
    try {
      // Control: SameDiff itself prints the noise, so the filter has something to remove.
      SameDiff control = graph(3);
      control.createGradFunction();
      assertTrue(captured.toString(StandardCharsets.UTF_8).contains(GradientFunction.NOISE),
          "SameDiff no longer prints its per-op lines; this filter may be unnecessary");
      captured.reset();

      int threads = 4;
      CountDownLatch go = new CountDownLatch(1);
      List<Thread> builders = new ArrayList<>();
      List<SameDiff> graphs = new ArrayList<>();
      List<Throwable> failures = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        SameDiff sd = graph(50);
        graphs.add(sd);
        Thread th = new Thread(() -> {
          try {
            go.await();
            GradientFunction.build(sd);
          } catch (Throwable e) {
            synchronized (failures) {
              failures.add(e);
            }
          }
        });
        builders.add(th);
        th.start();
      }
      Thread talker = new Thread(() -> {
        try {
          go.await();
          for (int i = 0; i < 200; i++) System.out.println("result line " + i);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      talker.start();
      go.countDown();
      for (Thread th : builders) th.join();
      talker.join();
      assertTrue(failures.isEmpty(), () -> "builds failed: " + failures);

      assertSame(capture, System.out, "System.out must be the stream it was before the builds");
      for (SameDiff sd : graphs) assertNotNull(sd.getFunction("grad"));
      System.out.println("after");
      String out = captured.toString(StandardCharsets.UTF_8);
      assertFalse(out.contains(GradientFunction.NOISE), "SameDiff's per-op lines leaked");
      for (int i = 0; i < 200; i++) assertTrue(out.contains("result line " + i + "\n"), "lost: result line " + i);
      assertTrue(out.endsWith("after\n"));
      assertEquals(201, out.lines().count(), "only the talker's lines and 'after'");
    } finally {
      System.setOut(real);
    }
  }
}
