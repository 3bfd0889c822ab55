package org.m3ae.tasks;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A missing init checkpoint is named before anything is built or written: the config's key and file, or the
 * command-line flag, and no run directory left behind.
 */
class MissingInitTest {
  @TempDir Path dir;

  @Test
  void missingInitIsNamedBeforeTheGraphIsBuilt() {
    Path config = Path.of("configs/runs/vqa-rad-m3ae.yaml");
    TaskConfig c = TaskConfig.load(config);
    Path missing = dir.resolve("nowhere/m3ae.ckpt");
    TaskConfig withMissing = new TaskConfig(c.name(), c.task(), c.model(), missing.toString(), c.data(), c.train(), c.eval());
    Path runDir = dir.resolve("run");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> FinetuneRun.run(withMissing, config, null, runDir, 1, List.of(), System.out));
    assertTrue(e.getMessage().contains(missing.toString()) && e.getMessage().contains("key 'init' of " + config),
        e.getMessage());
    assertFalse(Files.exists(runDir), "no run directory written");

    e = assertThrows(IllegalArgumentException.class,
        () -> FinetuneRun.run(c, config, missing, runDir, 1, List.of(), System.out));
    assertTrue(e.getMessage().contains(missing.toString()) && e.getMessage().contains("--init"), e.getMessage());
  }
}
