package org.m3ae.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The bench runs end to end on the tiny configs and produces a well-formed report (numbers are not checked). */
class BenchTest {
  @Test
  void tinyRunProducesWellFormedReport() throws Exception {
    var models = List.of(Path.of("configs/models/tiny-teacher.yaml"), Path.of("configs/models/tiny-student.yaml"));
    // Training steps are covered below, one model each, to keep this fast.
    var opt = Bench.Options.defaults(models).withBatches(2, 1).withRepeats(1, 0, 0).withInputs(0, 0)
        .withParts(true, true, false).withGcEachStep(true).withSgemmSize(64).withProfile(true);
    BenchReport r = new Bench(opt, TrainSteps.factory(), null).run();

    assertEquals(2, r.models().size());
    for (var m : r.models()) {
      assertNotNull(m.inference());
      assertNotNull(m.latency());
      assertTrue(m.train() == null);
      assertEquals(2, m.inference().batch());
      assertEquals(1, m.latency().batch());
      assertTrue(m.inference().stats().medianMs() > 0);
      assertTrue(m.inferenceFlopsPerPair() > 0 && m.trainFlopsPerPair() > 3 * m.inferenceFlopsPerPair());
      assertTrue(m.inference().peak().physicalBytes() > 0);
      assertTrue(m.profile().size() > 1);
    }
    assertTrue(r.sgemm().gflops() > 0);

    String table = r.toTable();
    assertTrue(table.contains("tiny-teacher") && table.contains("tiny-student"), table);
    assertTrue(table.contains("1.00×"), table);
    JsonNode j = new ObjectMapper().readTree(r.toJson());
    BenchReport back = new ObjectMapper().readValue(r.toJson(), BenchReport.class);
    assertEquals(table, back.toTable());
    assertEquals("tiny-student", j.get("models").get(1).get("name").asText());
    assertTrue(j.get("models").get(0).get("inference").get("stats").get("medianMs").asDouble() > 0);
  }

  @Test
  void profileTimesTheOpsOfPlannedForwardsAndTrainingSteps() {
    // The micro checkpoint's model: the smallest config with every pass (MLM, MIM, ITM) and the fusion layers.
    var models = List.of(Path.of("src/test/resources/ckpt/micro-m3ae.yaml"));
    var opt = Bench.Options.defaults(models).withBatches(2, 2).withRepeats(2, 0, 1).withInputs(0, 0)
        .withParts(true, false, true).withGcEachStep(false).withSgemmSize(64).withProfile(true);
    var m = new Bench(opt, TrainSteps.factory(), null).run().models().get(0);
    for (List<BenchReport.OpRow> rows : List.of(m.profile(), m.trainProfile())) {
      assertEquals("(wall)", rows.get(0).op());
      double inside = rows.stream().skip(1).mapToDouble(BenchReport.OpRow::ms).sum();
      assertTrue(inside > 0 && inside <= rows.get(0).ms(), "time inside ops " + inside + " within the wall time " + rows);
      assertTrue(rows.stream().anyMatch(r -> r.op().equals("matmul/rank2") && r.calls() > 0), rows.toString());
      assertTrue(rows.stream().anyMatch(r -> r.op().equals("softmax")), rows.toString());
    }
    // the forward's ops are those of the inference graph (every op of a forward runs once); the step has gradients
    long forwardOps = m.profile().stream().skip(1).mapToLong(BenchReport.OpRow::calls).sum();
    assertTrue(forwardOps > 0 && forwardOps <= m.inferenceOps(), forwardOps + " ops timed, graph has " + m.inferenceOps());
    assertTrue(m.trainProfile().stream().anyMatch(r -> r.op().equals("softmax_bp")), m.trainProfile().toString());
  }

  @Test
  void trainingStepsRunOnTinyConfig() {
    var cfg = org.m3ae.model.ModelConfig.load(Path.of("configs/models/tiny-student.yaml"));
    for (TrainStepFactory f : List.of(new TrainerStepFactory(true), new TrainerStepFactory(false), new GradientStepFactory())) {
      try (TrainStep s = f.pretrain(cfg, 1, 0)) {
        s.run();
        assertEquals(1, s.batch());
        assertTrue(!s.description().isEmpty());
      }
    }
  }

  @Test
  void paperRowsMatchConfigNames() {
    assertEquals(BenchReport.PAPER_TEACHER, BenchReport.paperRow("teacher-m3ae"));
    assertEquals(BenchReport.PAPER_SMALL, BenchReport.paperRow("student-small"));
    assertEquals(BenchReport.PAPER_BASE, BenchReport.paperRow("student-base"));
  }
}
