package org.m3ae.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.m3ae.model.M3aeGraph;
import org.m3ae.model.ModelConfig;
import org.m3ae.model.Names;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@code import} of PyTorch-written checkpoints of the micro M3AE (official key names; scripts/fixtures/
 * make_ckpt_fixtures.py): every .pt/.ckpt variant loads exactly what the safetensors twin loads, and the imported
 * graph reproduces the outputs PyTorch computed for the same weights and inputs (the peer, scripts/peer/m3ae_peer.py)
 * within 1e-4: every hidden state, attention map, joint, and the MLM / ITM / MIM heads.
 */
class CkptParityTest {
  private static final Path DIR = TorchCheckpointReaderTest.DIR;
  private static final Path CONFIG = DIR.resolve("micro-m3ae.yaml");
  private static final double TOLERANCE = 1e-4;
  /** Keys of the official checkpoint that the graph does not use (SPEC §4). */
  private static final Set<String> UNUSED = Set.of("vision_encoder.token_embedding.weight",
      "vision_encoder.positional_embedding", "language_encoder.pooler.dense.weight",
      "language_encoder.pooler.dense.bias", "language_encoder.embeddings.position_ids");

  private static Map<String, float[]> variables(M3aeGraph g) {
    Map<String, float[]> out = new TreeMap<>();
    for (SDVariable v : g.sd().variables()) {
      if (v.getVariableType() == VariableType.VARIABLE) out.put(v.name(), v.getArr().dup('c').data().asFloat());
    }
    return out;
  }

  private static WeightImport.Result imported(Path file, Path out) {
    WeightImport.Result r = WeightImport.run(ModelConfig.load(CONFIG), file, out, null);
    assertTrue(r.report().missing().isEmpty(), file + " missing " + r.report().missing());
    assertEquals(UNUSED, r.report().unused().keySet(), file.toString());
    assertEquals(1, r.report().checked().size());
    assertTrue(r.report().checked().get(0).maxAbsDiff() < 4e-3, "decoder_pos_embed " + r.report().checked());
    return r;
  }

  @Test
  void everyCheckpointImportsExactlyWhatTheSafetensorsTwinImports(@TempDir Path dir) throws Exception {
    Map<String, float[]> want = variables(imported(DIR.resolve("micro-m3ae.safetensors"), null).graph());
    assertTrue(want.size() > 150, "graph has " + want.size() + " variables");
    for (String f : List.of("micro-m3ae.pt", "micro-m3ae-fp16.pt", "micro-m3ae-lightning.ckpt")) {
      Path out = dir.resolve(f + ".sdz");
      Map<String, float[]> got = variables(imported(DIR.resolve(f), out).graph());
      assertEquals(want.keySet(), got.keySet());
      for (String k : want.keySet()) assertArrayEquals(want.get(k), got.get(k), f + ": " + k);
      assertTrue(Files.size(out) > 0, out.toString());
    }
  }

  @Test
  void theImportedGraphReproducesPyTorch() {
    M3aeGraph g = imported(DIR.resolve("micro-m3ae-lightning.ckpt"), null).graph();
    Map<String, INDArray> expected = new TreeMap<>();
    try (SafetensorsReader r = SafetensorsReader.open(DIR.resolve("micro-m3ae-outputs.safetensors"))) {
      for (String k : r.keys()) expected.put(k, Nd4j.create(r.readFloats(k), r.shape(k), 'c'));
    }
    Map<String, INDArray> feed = new LinkedHashMap<>();
    try (SafetensorsReader r = SafetensorsReader.open(DIR.resolve("micro-m3ae-inputs.safetensors"))) {
      for (String k : r.keys()) {
        INDArray a = Nd4j.create(r.readFloats(k), r.shape(k), 'c');
        if (k.equals(Names.TEXT_IDS) || k.equals(Names.IMAGE_KEEP_IDS)) a = a.castTo(DataType.INT32);
        if (!k.equals(Names.IMAGE_KEEP_IDS)) {
          feed.put(k, a);
          feed.put("mlm_itm/" + k, a);
        }
        feed.put("mim/" + k, a);
      }
    }
    // import's graph computes the heads in M3AE's passes: MLM and ITM in "mlm_itm" (the same full inputs), MIM in "mim".
    Map<String, String> graphName = new TreeMap<>();
    for (String k : expected.keySet()) {
      graphName.put(k, k.equals("mlm.logits") || k.equals("itm.logits") ? "mlm_itm/" + k : k);
    }
    for (String want : List.of("vision.attn.0", "text.attn.0", "fusion.text.cross_attn.1", "fusion.image.self_attn.1",
        "vision.hidden.1", "text.hidden.1", "fusion.image.hidden.2", "joint", "mlm.logits", "itm.logits", "mim/mim.pred",
        "mim/mim.decoder.attn.0", "mim/fusion.image.hidden.1")) {
      assertTrue(expected.containsKey(want), "fixture lacks " + want);
    }
    Map<String, INDArray> got = g.sd().output(feed, graphName.values().toArray(new String[0]));
    List<String> bad = new ArrayList<>();
    double worst = 0;
    for (var e : expected.entrySet()) {
      INDArray java = got.get(graphName.get(e.getKey()));
      assertArrayEquals(e.getValue().shape(), java.shape(), e.getKey());
      double d = java.castTo(DataType.DOUBLE).sub(e.getValue().castTo(DataType.DOUBLE)).amaxNumber().doubleValue();
      worst = Math.max(worst, d);
      if (!(d <= TOLERANCE)) bad.add(e.getKey() + " " + d);
    }
    System.out.printf("ckpt parity: %d tensors, max |Java - PyTorch| %.2e%n", expected.size(), worst);
    assertTrue(bad.isEmpty(), "differ from PyTorch by more than " + TOLERANCE + ": " + bad);
  }
}
