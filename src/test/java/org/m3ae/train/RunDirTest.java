package org.m3ae.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.m3ae.weights.SafetensorsReader;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/** The names on disk are a contract with the UI, --resume, the ablation runner and the demo: spelled out here. */
class RunDirTest {
  @TempDir Path tmp;

  @Test
  void layoutKeepsItsFileNames() {
    RunDir run = new RunDir(tmp);
    assertEquals(tmp.resolve("run.json"), run.runJson());
    assertEquals(tmp.resolve("metrics.jsonl"), run.metrics());
    assertEquals(tmp.resolve("bad-records.json"), run.badRecords());
    assertEquals(tmp.resolve("model.safetensors"), run.weights());
    assertEquals(tmp.resolve("last.safetensors"), run.lastWeights());
    assertEquals(tmp.resolve("model.sdz"), run.sdz());
    assertEquals(tmp.resolve("checkpoints"), run.checkpoints(3).root());
  }

  @Test
  void runJsonHoldsTheCallersFieldsInOrderThenTheStart() throws Exception {
    RunDir run = new RunDir(tmp.resolve("new/run"));
    run.writeRunJson(n -> n.put("name", "r").put("kind", "pretrain").putNull("teacher"));
    JsonNode j = new ObjectMapper().readTree(run.runJson().toFile());
    List<String> keys = new ArrayList<>();
    j.fieldNames().forEachRemaining(keys::add);
    assertEquals(List.of("name", "kind", "teacher", "started"), keys);
    assertEquals("pretrain", j.get("kind").asText());
    assertTrue(j.get("teacher").isNull());
    java.time.Instant.parse(j.get("started").asText());
  }

  @Test
  void weightsAndASmallInferenceGraphAreWritten() throws Exception {
    RunDir run = new RunDir(tmp);
    SameDiff sd = SameDiff.create();
    sd.var("w", Nd4j.ones(DataType.FLOAT, 2, 3));
    assertEquals(run.weights(), run.writeWeights(sd, "micro"));
    try (SafetensorsReader r = SafetensorsReader.open(run.weights())) {
      assertEquals(List.of("w"), r.keys());
    }
    assertEquals(run.sdz(), run.saveInferenceGraph(sd));
    assertTrue(Files.size(run.sdz()) > 0);
  }
}
