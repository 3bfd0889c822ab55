package org.m3ae.data.synth;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The embedded default dataset: a pipeline whose root is {@code embedded:synthetic} gets the
 * synthetic set generated once into the temp directory (keyed by n, seed and a format version),
 * so a fresh clone runs without {@code ../shared}.
 */
public final class SyntheticDataset {

  public static final String EMBEDDED_ROOT = "embedded:synthetic";
  public static final int DEFAULT_N = 400;
  public static final long DEFAULT_SEED = 1234L;
  // 2: a validation split; 3: findings drawn large and distinct at the models' 32 px; 4: one finding per scan
  // (docs/training.md)
  private static final int FORMAT_VERSION = 4;

  private SyntheticDataset() {}

  public static synchronized Path materialise(int n, long seed) {
    Path base = Path.of(System.getProperty("java.io.tmpdir"));
    Path dir = base.resolve("m3ae-synthetic-v" + FORMAT_VERSION + "-n" + n + "-s" + seed);
    if (Files.isRegularFile(dir.resolve("scenes.json"))) return dir;
    try {
      Path tmp = Files.createTempDirectory(base, "m3ae-synthetic-tmp");
      SyntheticGenerator.generate(tmp, n, seed);
      try {
        Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
      } catch (IOException e) {
        // Another process won the race; its copy is identical (same n and seed).
        if (!Files.isRegularFile(dir.resolve("scenes.json"))) throw e;
      }
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot materialise the synthetic dataset in " + dir + ": " + e.getMessage(), e);
    }
  }
}
