package org.m3ae.weights;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.m3ae.model.ModelConfig;

/** A checkpoint deeper than the graph is an error naming the first extra tensor and both depths, whatever the loader. */
class LayerDepthCheckTest {
  private static final Path DIR = Path.of("src/test/resources/ckpt");

  @Test
  void extraLayersOfABuiltStackAreAnErrorOtherStacksAndKeysAreNot() {
    List<String> keys = List.of("enc.layer.0.w", "enc.layer.1.w", "enc.layer.2.w", "enc.layer.3.w", "dec.blocks.0.w", "pooler.w");
    WeightsException e = assertThrows(WeightsException.class,
        () -> LayerDepthCheck.check("f.onnx", keys, Set.of("enc.layer.0.w", "enc.layer.1.w")));
    assertTrue(e.getMessage().startsWith("f.onnx: 'enc.layer.2.w'") && e.getMessage().contains("file has 4 layers, config builds 2"),
        e.getMessage());
    // a stack the graph does not build at all (dec.blocks) and layer-less keys are left to the unused report
    assertDoesNotThrow(() -> LayerDepthCheck.check("f.onnx", keys, Set.of("enc.layer.0.w", "enc.layer.1.w", "enc.layer.2.w", "enc.layer.3.w")));
  }

  @Test
  void importOfAnM3aeCheckpointWithAnExtraVisionBlockFails(@TempDir Path dir) {
    ModelConfig micro = ModelConfig.load(DIR.resolve("micro-m3ae.yaml"));
    Path deeper = dir.resolve("deeper.safetensors");
    SafetensorsWriter w = new SafetensorsWriter();
    String block = "vision_encoder.visual.transformer.resblocks.";
    try (SafetensorsReader r = SafetensorsReader.open(DIR.resolve("micro-m3ae.safetensors"))) {
      for (String k : r.keys()) {
        w.add(k, r.shape(k), r.readFloats(k));
        int last = micro.vision().encoder().layers() - 1;
        // the last block once more, one index further: a checkpoint one block deeper than the config
        if (k.startsWith(block + last + ".")) w.add(block + (last + 1) + k.substring((block + last).length()), r.shape(k), r.readFloats(k));
      }
    }
    w.write(deeper);
    int layers = micro.vision().encoder().layers();
    WeightsException e = assertThrows(WeightsException.class, () -> WeightImport.run(micro, deeper, null, null));
    assertTrue(e.getMessage().contains("'" + block + layers + ".") && e.getMessage().contains(
        "file has " + (layers + 1) + " layers, config builds " + layers), e.getMessage());
  }
}
