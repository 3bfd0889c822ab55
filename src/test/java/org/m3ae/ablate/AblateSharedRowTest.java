package org.m3ae.ablate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.m3ae.model.ConfigException;
import org.m3ae.model.ModelConfig;
import org.m3ae.tasks.ItmAccuracy;
import org.m3ae.tasks.TaskConfig;

/**
 * A {@code shared:} variant: the grid's teacher as a row of the table, its weights fine-tuned and scored like every
 * cell with the cell's seed and no pre-training of its own (micro model, 2-step runs).
 */
class AblateSharedRowTest {
  @TempDir Path dir;

  private Path grid(String teacherRow) throws IOException {
    MicroRuns.write(dir, "{steps: 2, batch_size: 4, lr: 1.0e-3, seed: 0}");
    Path g = dir.resolve("grid.yaml");
    Files.writeString(g, "name: micro-teacher-row\n"
        + "shared: {teacher: {run: " + dir.resolve("teacher.yaml") + "}}\n"
        + "run: " + dir.resolve("student.yaml") + "\n"
        + "overrides: {teacher: {weights: \"${shared.teacher}\"}}\n"
        + "finetune: {config: demo, steps: 2}\n"
        + "seeds: [0, 1]\n"
        + "compare_to: student\n"
        + "variants:\n"
        + "  - " + teacherRow + "\n"
        + "  - {label: student}\n");
    return g;
  }

  @Test
  void theTeacherRowFineTunesTheSharedWeightsPerSeedWithoutPretrainingAgain() throws IOException {
    Path out = dir.resolve("out");
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    AblateRun.Outcome o = AblateRunTest.run(grid("{label: teacher, shared: teacher}"), out, false, log);
    assertEquals(4, o.ran(), log.toString());
    Path teacherWeights = out.resolve("shared/teacher/pretrain/model.safetensors");

    for (long seed : new long[] {0, 1}) {
      Path cell = out.resolve("cells/teacher/seed-" + seed);
      assertFalse(Files.exists(cell.resolve("pretrain")), "a shared row pre-trains nothing");
      assertFalse(Files.exists(cell.resolve("run.yaml")));
      TaskConfig ft = TaskConfig.load(cell.resolve("finetune.yaml"));
      assertEquals(teacherWeights.toString(), ft.init(), "it fine-tunes the shared run's weights");
      assertEquals(dir.resolve("micro.yaml").toString(), ft.model());
      assertEquals(seed, ft.train().optimization().seed(), "with the cell's seed");
      assertTrue(Files.isRegularFile(cell.resolve("finetune/model.safetensors")));
    }
    // its ITM is the shared weights' own, scored as the grid scores every cell (test split, batch 32, seed 0)
    ItmAccuracy.Result direct = ItmAccuracy.evaluate(ModelConfig.load(dir.resolve("micro.yaml")), teacherWeights,
        Path.of("data-pipelines/synthetic.yaml"), null, "test", 32, 0);
    for (CellResult c : o.report().cells) {
      if (c.variant().equals("teacher")) assertEquals(direct.accuracy(), c.metrics().get("itm_accuracy"), 0.0, "seed " + c.seed());
    }
    assertEquals(1, Files.readAllLines(out.resolve("shared/teacher/log.txt")).stream()
        .filter(l -> l.contains("pre-training micro from scratch")).count(), "the teacher was pre-trained once");
    String md = Files.readString(out.resolve("results.md"));
    assertTrue(md.contains("| teacher | 2 | ") && md.contains("| student | 2 | "), md);
    assertTrue(md.contains("- teacher vs student, VQA overall: "), md);
  }

  @Test
  void aSharedRowMustNameASharedRunAndTakesNoOverrides() throws IOException {
    Path g = grid("{label: teacher, shared: techer}");
    ConfigException e = assertThrows(ConfigException.class, () -> GridConfig.load(g));
    assertTrue(e.getMessage().contains("variants[0].shared") && e.getMessage().contains("'techer' is not a shared run"), e.getMessage());
    Path g2 = grid("{label: teacher, shared: teacher, overrides: {train: {lr: 1.0e-4}}}");
    e = assertThrows(ConfigException.class, () -> GridConfig.load(g2));
    assertTrue(e.getMessage().contains("'run' and 'overrides' do not apply"), e.getMessage());
  }
}
