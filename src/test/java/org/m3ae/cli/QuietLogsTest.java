package org.m3ae.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * A CPU run's output carries the command's own lines and real warnings, not library noise (issue 17). The command runs
 * in a fresh JVM: the noise comes from one-time library initialisation (DJL's GPU probe, ND4J's op registry), which in
 * this JVM other tests have already triggered, and logback reads its configuration at start, as a user's JVM does.
 * Without the logger levels of logback.xml this run prints every line of {@link #NOISE}.
 */
class QuietLogsTest {
  static final List<String> NOISE = List.of(
      "Failed to detect GPU count",              // ai.djl.util.cuda.CudaUtils, twice
      "Found matching platform from",            // ai.djl.util.Platform
      "Duplicate TF op mapping",                 // org.nd4j.imports.converters.ImportClassMapping, twice
      "No fields found for property name",       // org.nd4j.autodiff.functions.DifferentialFunction (OnesLike)
      "Added differentiated op");                // SameDiff.createGradFunction's System.out.println, per op

  @TempDir Path dir;

  /** Only the noisy loggers are raised, and only so far: other ND4J/DJL warnings and these loggers' errors still show. */
  @Test
  void onlyTheNoisyLoggersAreRaised() {
    for (String name : List.of("org.nd4j.autodiff.samediff.SameDiff", "org.nd4j.linalg.factory.Nd4j",
        "org.nd4j.imports.converters.SomethingElse")) {
      assertEquals(Level.WARN, level(name), name);
    }
    assertEquals(Level.INFO, level("ai.djl.util.Utils")); // DJL is at the root's level apart from the two raised
    assertEquals(Level.INFO, level("org.m3ae.train.ProgressListener"));
    for (String name : List.of("ai.djl.util.cuda.CudaUtils", "org.nd4j.imports.converters.ImportClassMapping",
        "org.nd4j.autodiff.functions.DifferentialFunction")) {
      assertEquals(Level.ERROR, level(name), name);
    }
    assertEquals(Level.WARN, level("ai.djl.util.Platform"));
  }

  private static Level level(String logger) {
    return ((Logger) LoggerFactory.getLogger(logger)).getEffectiveLevel();
  }

  @Test
  void aTinyPretrainPrintsItsProgressAndNoLibraryNoise() throws Exception {
    Path out = dir.resolve("stdout.txt"), err = dir.resolve("stderr.txt");
    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), Main.class.getName(),
        "pretrain", "--config", "configs/runs/teacher-tiny.yaml", "--steps", "2", "--out", dir.resolve("run").toString())
        .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    assertTrue(p.waitFor(10, TimeUnit.MINUTES), "pretrain did not finish in 10 minutes");
    String stdout = Files.readString(out), stderr = Files.readString(err), both = stdout + stderr;
    assertEquals(0, p.exitValue(), both);

    for (String noise : NOISE) assertFalse(both.contains(noise), "library noise '" + noise + "' in:\n" + both);
    // the command's own progress: its start and result on stdout, the training loop's steps in the log (stderr)
    List<String> lines = stdout.lines().toList();
    assertTrue(lines.get(0).startsWith("teacher-tiny: pre-training tiny-teacher from scratch"), stdout);
    assertTrue(lines.get(lines.size() - 1).startsWith("done: 2 steps in "), stdout);
    assertTrue(stderr.contains("ProgressListener - teacher-tiny: steps 0..1"), stderr);
    assertTrue(stderr.contains("ProgressListener - step 1/2 mlm ") && stderr.contains("ProgressListener - step 2/2 mlm "), stderr);
    // standard output is for results: no log line lands there
    for (String l : lines) assertFalse(l.matches("\\d\\d:\\d\\d:\\d\\d\\.\\d{3} .*"), "a log line on stdout: " + l);
  }
}
