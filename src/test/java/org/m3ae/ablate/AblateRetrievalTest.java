package org.m3ae.ablate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.m3ae.model.ConfigException;

/**
 * A grid with a retrieval task: every cell also fine-tunes image–text retrieval from its pre-trained weights and
 * scores R@1/5/10 both ways on that task's test split, with the chance of random scores beside them (micro model,
 * synthetic data, one caption per scan: chance R@K = K / pairs).
 */
class AblateRetrievalTest {
  @TempDir Path dir;

  private Path grid(String retrievalTask) throws IOException {
    Path model = MicroRuns.write(dir, "{steps: 2, batch_size: 4, lr: 1.0e-3, seed: 0}"); // cells pre-train teacher.yaml
    Files.writeString(dir.resolve("ir.yaml"), "name: ir\ntask: " + retrievalTask + "\nmodel: " + model + "\n"
        + "data: {pipeline: data-pipelines/synthetic.yaml, workers: 1, val_split: val, test_split: test}\n"
        + "train: {epochs: 1, batch_size: 4, lr: 1.0e-3, negatives: 3, seed: 0}\neval: {batch_size: 16, chunk: 64}\n");
    Path g = dir.resolve("grid.yaml");
    Files.writeString(g, "name: micro-ir\nrun: " + dir.resolve("teacher.yaml") + "\n"
        + "finetune: {config: demo, steps: 2}\n"
        + "retrieval: {config: " + dir.resolve("ir.yaml") + ", steps: 2, max_pairs: 12}\n"
        + "seeds: [0]\nvariants:\n  - {label: plain}\n");
    return g;
  }

  @Test
  void everyCellScoresRetrievalAgainstChanceAndTheTableShowsIt() throws IOException {
    Path out = dir.resolve("out");
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    AblateRun.Outcome o = AblateRunTest.run(grid("retrieval"), out, false, log);
    assertEquals(1, o.ran(), log.toString());

    CellResult c = o.report().cells.get(0);
    assertEquals(12.0, c.details().get("retrieval_images"));
    assertEquals(12.0, c.details().get("retrieval_texts"));
    for (String m : CellResult.RETRIEVAL_METRICS) {
      double v = c.metrics().get(m);
      assertTrue(v >= 0 && v <= 1, m + " = " + v);
      int k = Integer.parseInt(m.substring(5));
      assertEquals(k / 12.0, c.chance(m), 1e-12, "chance " + m + ": K / 12 with one caption per scan");
    }
    assertEquals(2.0, c.details().get("finetune_steps"));
    assertTrue(Files.isRegularFile(out.resolve("cells/plain/seed-0/retrieval.yaml")));
    assertTrue(Files.isRegularFile(out.resolve("cells/plain/seed-0/retrieval/model.safetensors")));

    // the cell's figures are the evaluation's own, as `evaluate` wrote them beside the retrieval checkpoint
    JsonNode ev = CellResult.JSON.readTree(out.resolve("cells/plain/seed-0/retrieval-test/results.json").toFile());
    for (String m : CellResult.RETRIEVAL_METRICS) assertEquals(ev.path("metrics").path(m).asDouble(), c.metrics().get(m), 0.0, m);
    assertEquals(1 / 12.0, ev.path("others").path("chance (random scores)").path("i2t_r1").asDouble(), 1e-12, ev.toString());

    String md = Files.readString(out.resolve("results.md"));
    assertTrue(md.contains("| image→text R@10 |") || md.contains(" image→text R@10 |"), md);
    assertTrue(md.contains("12 images × 12 texts"), md);
    // the chance row: 8.3 (R@1), 41.7 (R@5), 83.3 (R@10) in both directions
    String chance = md.lines().filter(l -> l.startsWith("| chance |")).findFirst().orElseThrow();
    assertTrue(chance.endsWith("| 8.3 | 41.7 | 83.3 | 8.3 | 41.7 | 83.3 |"), chance);
    assertTrue(Files.isRegularFile(out.resolve("chart-i2t_r10.png")));
    JsonNode results = CellResult.JSON.readTree(out.resolve("results.json").toFile());
    assertEquals(10, results.path("metrics").size(), "4 VQA/ITM metrics + 6 retrieval");

    // a rerun finds the cell finished
    AblateRun.Outcome again = AblateRunTest.run(grid("retrieval"), out, true, new ByteArrayOutputStream());
    assertEquals(0, again.ran());
    assertEquals(c.metrics(), again.report().cells.get(0).metrics());
  }

  @Test
  void aRetrievalKeyThatNamesAnotherTaskFailsBeforeAnythingTrains() throws IOException {
    Path g = grid("vqa");
    ConfigException e = assertThrows(ConfigException.class,
        () -> AblateRunTest.run(g, dir.resolve("out2"), false, new ByteArrayOutputStream()));
    assertTrue(e.getMessage().contains("key 'retrieval.config'") && e.getMessage().contains("not retrieval"), e.getMessage());
    assertTrue(!Files.exists(dir.resolve("out2/cells/plain/seed-0/pretrain")), "nothing may have trained");
  }
}
