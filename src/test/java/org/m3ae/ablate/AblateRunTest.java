package org.m3ae.ablate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.m3ae.train.Checkpoints;
import org.m3ae.train.MetricsJsonl;

/**
 * A 2-variant × 2-seed grid end to end on the micro model: a shared teacher, distilled students with and without the
 * KD terms, the demo's VQA fine-tuning for two steps, the test split; then a rerun that skips finished cells and
 * continues three interrupted ones (two killed while scoring, one killed during pre-training) as two {@code --part}s
 * sharing the directory.
 */
class AblateRunTest {
  @TempDir Path dir;

  Path grid() throws IOException {
    MicroRuns.write(dir, "{steps: 4, batch_size: 4, lr: 1.0e-3, warmup: 0.25, seed: 0, checkpoint_every: 2, keep_checkpoints: 3}");
    Path g = dir.resolve("grid.yaml");
    Files.writeString(g, "name: micro\n"
        + "shared: {teacher: {run: " + dir.resolve("teacher.yaml") + "}}\n"
        + "run: " + dir.resolve("student.yaml") + "\n"
        + "overrides: {teacher: {weights: \"${shared.teacher}\"}}\n"
        + "finetune: {config: demo, steps: 2}\n"
        + "seeds: [0, 1]\n"
        + "variants:\n"
        + "  - {label: KD off, overrides: {objectives: {hid: 0, attn: 0}}}\n"
        + "  - {label: KD on}\n");
    return g;
  }

  static AblateRun.Outcome run(Path grid, Path out, boolean resume, ByteArrayOutputStream log) {
    return AblateRun.run(grid, out, resume, new PrintStream(log, true));
  }

  @Test
  void aGridRunsEveryCellOnceAndResumesWhatWasInterrupted() throws IOException {
    Path g = grid(), out = dir.resolve("out");
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    AblateRun.Outcome first = run(g, out, false, log);
    assertEquals(4, first.ran(), log.toString());
    for (String f : List.of("results.json", "results.md", "chart-vqa_overall.png", "chart-itm_accuracy.png", "grid.yaml")) {
      assertTrue(Files.isRegularFile(out.resolve(f)), f);
    }
    String md = Files.readString(out.resolve("results.md"));
    assertTrue(md.contains("| KD off | 2 | ") && md.contains("| KD on | 2 | ") && md.contains("| majority answer (train) | – |"), md);
    assertTrue(md.contains("- KD on vs KD off, VQA overall: "), md);
    for (CellResult c : first.report().cells) {
      for (double v : c.metrics().values()) assertTrue(v >= 0 && v <= 1, c.toString());
      // the synthetic test split: 400 of the 2000 scans data-pipelines/synthetic.yaml generates (20 %), each scored once
      assertEquals(400.0, c.details().get("itm_pairs"), "the synthetic test split's pairs");
    }
    // the teacher was made once; the KD-off cells weighed the KD terms 0 and the KD-on cells 1
    assertEquals(1, Files.readAllLines(out.resolve("shared/teacher/log.txt")).stream().filter(l -> l.contains("pre-training micro from scratch")).count());
    Path offLog = out.resolve("cells/kd-off/seed-0/pretrain/metrics.jsonl");
    assertEquals(4, MetricsJsonl.read(offLog).size());

    Map<String, byte[]> bytes = new HashMap<>();
    Map<String, FileTime> times = new HashMap<>();
    List<String> cells = List.of("kd-off/seed-0", "kd-off/seed-1", "kd-on/seed-0", "kd-on/seed-1");
    for (String c : cells) {
      Path f = out.resolve("cells/" + c + "/cell.json");
      bytes.put(c, Files.readAllBytes(f));
      times.put(c, Files.getLastModifiedTime(f));
    }
    FileTime teacherDone = Files.getLastModifiedTime(out.resolve("shared/teacher/done.json"));

    // kd-on/seed-1 killed while scoring: pre-training and fine-tuning finished
    Path scoring = out.resolve("cells/kd-on/seed-1");
    Files.delete(scoring.resolve("cell.json"));
    FileTime ftDone = Files.getLastModifiedTime(scoring.resolve("finetune.json"));
    // kd-off/seed-1 killed during pre-training, after the checkpoint at step 2: no final weights, nothing after
    Path killed = out.resolve("cells/kd-off/seed-1");
    for (String f : List.of("cell.json", "pretrain.json", "finetune.json", "pretrain/model.safetensors")) Files.delete(killed.resolve(f));
    CellRunner.deleteTree(killed.resolve("finetune"));
    Checkpoints ck = new Checkpoints(killed.resolve("pretrain"), 3);
    for (Path p : ck.list()) if (Checkpoints.readState(p).nextStep() > 2) CellRunner.deleteTree(p);
    assertEquals(2, Checkpoints.readState(ck.latest().orElseThrow()).nextStep());

    // kd-off/seed-0 killed while scoring as well: cell 1 of 4, part 1/2's below
    Files.delete(out.resolve("cells/kd-off/seed-0/cell.json"));

    IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, () -> run(g, out, false, new ByteArrayOutputStream()));
    assertTrue(refused.getMessage().contains("--resume"), refused.getMessage());
    Path other = dir.resolve("other.yaml");
    Files.writeString(other, Files.readString(g).replace("seeds: [0, 1]", "seeds: [0, 1, 2]"));
    refused = assertThrows(IllegalArgumentException.class,
        () -> AblateRun.run(other, out, false, new AblateRun.Part(1, 2), new PrintStream(new ByteArrayOutputStream())));
    assertTrue(refused.getMessage().contains("every part must run the same grid file"), refused.getMessage());
    assertThrows(IllegalArgumentException.class, () -> AblateRun.Part.parse("3/2"));
    assertEquals(new AblateRun.Part(2, 3), AblateRun.Part.parse("2/3"));

    // two parts continue the grid in one directory (no --resume needed): part 2/2 owns cells 2 and 4 of the
    // variant-major order (kd-off/seed-1, kd-on/seed-1), part 1/2 cells 1 and 3 (kd-off/seed-0; kd-on/seed-0 finished)
    ByteArrayOutputStream log2 = new ByteArrayOutputStream();
    AblateRun.Outcome second = AblateRun.run(g, out, false, new AblateRun.Part(2, 2), new PrintStream(log2, true));
    assertEquals(2, second.ran(), log2.toString());
    assertEquals(1, second.skipped());
    assertFalse(Files.exists(out.resolve("cells/kd-off/seed-0/cell.json")), "part 2 ran part 1's cell");
    assertEquals(3, second.report().cells.size(), "the report holds every finished cell");
    assertTrue(log2.toString().contains("part 2/2: 2 cell(s) run; 3 of the grid's 4 cells finished"), log2.toString());
    ByteArrayOutputStream log3 = new ByteArrayOutputStream();
    AblateRun.Outcome third = AblateRun.run(g, out, false, new AblateRun.Part(1, 2), new PrintStream(log3, true));
    assertEquals(1, third.ran(), log3.toString());
    assertEquals(4, third.report().cells.size());
    for (String c : List.of("kd-on/seed-0")) {
      Path f = out.resolve("cells/" + c + "/cell.json");
      assertArrayEquals(bytes.get(c), Files.readAllBytes(f), c + " was rewritten");
      assertEquals(times.get(c), Files.getLastModifiedTime(f), c + " was rewritten");
    }
    assertEquals(teacherDone, Files.getLastModifiedTime(out.resolve("shared/teacher/done.json")), "the teacher ran again");
    assertEquals(ftDone, Files.getLastModifiedTime(scoring.resolve("finetune.json")), "a finished fine-tuning ran again");
    String killedLog = Files.readString(killed.resolve("log.txt"));
    assertTrue(killedLog.contains("resumed from") && killedLog.contains("at step 2"), killedLog);
    assertEquals(4, MetricsJsonl.read(killed.resolve("pretrain/metrics.jsonl")).size());

    // both continued cells give what they gave uninterrupted (same weights, same seeds, exact resume)
    for (String c : List.of("kd-on/seed-1", "kd-off/seed-1", "kd-off/seed-0")) {
      CellResult before = CellResult.JSON.readValue(bytes.get(c), CellResult.class);
      CellResult after = CellResult.read(out.resolve("cells/" + c + "/cell.json"));
      assertEquals(before.metrics(), after.metrics(), c);
      assertNotEquals(before.finished(), after.finished(), c);
    }
    assertEquals(Files.readString(out.resolve("results.md")), md, "the same cells give the same table");
  }
}
