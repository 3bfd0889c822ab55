package org.m3ae.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.m3ae.model.BuildOptions;
import org.m3ae.model.M3aeGraph;
import org.m3ae.model.M3aeModel;
import org.m3ae.model.ModelConfig;
import org.m3ae.weights.SafetensorsReader;
import org.m3ae.weights.SafetensorsWriter;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code bench --peer} without torch (CI has none): a stand-in peer process that answers as the real one does checks
 * the handoff, the parsing, the comparison and the report; a missing Python leaves the run without the peer and says
 * how to install it; reports saved before the peer existed still read.
 */
class PeerTest {
  private static final Path TINY = Path.of("configs/models/tiny-student.yaml");

  @Test
  void peerFiguresAndDifferencesReachTheReport(@TempDir Path dir) throws Exception {
    ModelConfig c = ModelConfig.load(TINY);
    M3aeGraph g = M3aeModel.build(c, BuildOptions.defaults());
    Peer peer = new Peer(new Peer.Settings(Path.of("/bin/sh"), dir.resolve("fake-peer.sh"), dir.resolve("kept"), 0), s -> {});
    Peer.Handoff h = peer.handoff(g, g.pass(""), 2, 3);

    // The handoff: graph weights, the inputs, and the Java outputs of every compared tensor.
    try (SafetensorsReader w = SafetensorsReader.open(h.weights)) {
      assertTrue(w.contains("multi_modal_language_layers.0.crossattention.self.query.weight"));
      assertEquals(List.of(2L, (long) c.text().maxTextLen()), List.of(shape(h.inputs, "text_ids")));
    }
    assertEquals(Peer.comparedNames(c, g.pass("")).size(), h.java.size());

    // "PyTorch's" outputs: the Java ones with one element of the text stream off by 0.5.
    SafetensorsWriter out = new SafetensorsWriter();
    for (var e : h.java.entrySet()) {
      INDArray a = e.getValue().dup();
      if (e.getKey().equals("text.hidden.1")) a.putScalar(0, a.getDouble(0) + 0.5);
      out.add(e.getKey(), a);
    }
    Path canned = dir.resolve("canned.safetensors");
    out.write(canned);
    String json = "{\"torch\": \"9.9\", \"threads\": 1, \"parameters\": 5, \"backbone_parameters\": 4,"
        + " \"inference\": {\"batch\": 4, \"median_ms\": 20.0, \"min_ms\": 19.0, \"max_ms\": 22.0, \"n\": 3, \"peak_rss_bytes\": 1000},"
        + " \"train\": {\"batch\": 1, \"median_ms\": 50.0, \"min_ms\": 50.0, \"max_ms\": 50.0, \"n\": 3, \"peak_rss_bytes\": 2000,"
        + " \"description\": \"pre-training step\"}, \"peak_rss_bytes\": 2000}";
    // Copies the canned outputs to the path after --outputs and prints the JSON, as m3ae_peer.py --json does.
    Files.writeString(dir.resolve("fake-peer.sh"), "while [ \"$1\" != --outputs ]; do shift; done\n"
        + "cp " + canned + " \"$2\"\necho 'progress on stderr' >&2\ncat <<'EOF'\n" + json + "\nEOF\n");
    var opt = Bench.Options.defaults(List.of(TINY)).withBatches(4, 1).withRepeats(3, 1, 1).withInputs(0, 0)
        .withParts(true, false, true).withGcEachStep(true).withSgemmSize(64).withProfile(false);
    PeerResult r = peer.run(h, TINY, null, opt, true, 1);

    assertNull(r.error(), r.error());
    assertEquals("9.9", r.torch());
    assertEquals(4, r.backboneParameters());
    assertEquals(20.0, r.inference().medianMs());
    assertNull(r.latency());
    assertEquals("pre-training step", r.trainDescription());
    assertEquals(0.5, r.maxAbsDiff().get("text"), 1e-6);
    assertEquals(0.0, r.maxAbsDiff().get("joint"));
    assertEquals("text.hidden.1", r.worstTensor());
    assertEquals(h.java.size(), r.comparedTensors());

    // Java figures beside the peer's, with the ratio Java ÷ PyTorch, in the table and through JSON.
    var stats = new Stats(60.0, 55.0, 70.0, 3);
    var m = new BenchReport.Measurement(4, stats, stats, 1, new MemorySampler.Peak(1, 1, 1), new long[0]);
    var model = new BenchReport.ModelResult(c.name(), 4, 1, 0.1, 1, 1, Map.of(), null, m, null, null, null, null, r);
    var report = new BenchReport(opt, null, BenchReport.Environment.capture(), new Sgemm.Result(64, 64, 64, stats), null,
        List.of(model), "", "torch 9.9 (stand-in)");
    String table = report.toTable();
    assertTrue(table.contains("60.0 / 20.0 (3.00×)"), table);
    assertTrue(table.contains("text 5.0e-01"), table);
    BenchReport back = new ObjectMapper().readValue(report.toJson(), BenchReport.class);
    assertEquals(table, back.toTable());
    h.close();
    assertTrue(Files.exists(h.outputs), "--peer-dir keeps the files");
  }

  @Test
  void withoutPythonTheBenchRunsAloneAndSaysHowToInstall() {
    var opt = Bench.Options.defaults(List.of(TINY)).withBatches(1, 1).withRepeats(1, 0, 0).withInputs(0, 0)
        .withParts(true, false, false).withGcEachStep(true).withSgemmSize(64).withProfile(false);
    var settings = new Peer.Settings(Path.of("/nonexistent/python3"), Path.of("scripts/peer/m3ae_peer.py"), null, 0);
    BenchReport r = new Bench(opt, TrainSteps.factory(), null, settings).run();
    assertNotNull(r.models().get(0).inference());
    assertNull(r.models().get(0).peer());
    assertTrue(r.peer().contains("not available") && r.peer().contains("apt-get install -y python3-torch"), r.peer());
    assertTrue(r.toTable().contains("apt-get install"), r.toTable());
  }

  @Test
  void reportsSavedBeforeThePeerStillRead() throws Exception {
    BenchReport old = new ObjectMapper().readValue(Path.of("docs/bench-cpu.json").toFile(), BenchReport.class);
    assertNull(old.peer());
    assertNull(old.models().get(0).peer());
    assertFalse(old.toTable().contains("PyTorch peer"));
  }

  private static Long[] shape(Path file, String key) {
    try (SafetensorsReader r = SafetensorsReader.open(file)) {
      List<Long> l = new ArrayList<>();
      for (long s : r.shape(key)) l.add(s);
      return l.toArray(new Long[0]);
    }
  }
}
