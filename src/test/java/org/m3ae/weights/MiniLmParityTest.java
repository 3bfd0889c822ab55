package org.m3ae.weights;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.m3ae.model.ModelConfig;

/**
 * Real pretrained weights (all-MiniLM-L6-v2, float32 ONNX from Maven Central) loaded into the
 * project's BERT-style text encoder must match ONNX Runtime on the same file within 1e-4.
 */
class MiniLmParityTest {

  @TempDir static Path dir;
  static Path onnx;
  static Path tokenizer;
  static ModelConfig cfg;

  @BeforeAll
  static void extract() throws IOException {
    onnx = OnnxInitializersTest.miniLmOnnx(dir);
    tokenizer = OnnxInitializersTest.extract(dir, "all-minilm-l6-v2-tokenizer.json");
    cfg = ModelConfig.load(Path.of(System.getProperty("m3ae.minilmConfig",
        "configs/models/minilm-l6-text.yaml")));
  }

  @Test
  void paddedBatchMatchesOnnxRuntime() {
    List<String> texts = List.of(
        "A chest X-ray shows no acute cardiopulmonary abnormality.",
        "Is there a pleural effusion?",
        "MRI: 2.3 cm enhancing lesion, left temporal lobe; consistent with glioma (grade IV)?",
        "ok");
    TokenizedBatch batch = TokenizedBatch.of(tokenizer, texts, 0, 512);
    assertTrue(batch.mask()[3][batch.length() - 1] == 0, "the short text must be padded");
    OnnxParity.Result r = OnnxParity.run(onnx, batch, cfg);
    assertEquals(0, r.report().missing().size(), r.report().missing().toString());
    // pooler and the int64 position_ids buffer are the only tensors the encoder does not use
    assertEquals(3, r.report().unused().size(), r.report().unused().toString());
    System.out.println("MiniLM padded batch " + r.batch() + "x" + r.length() + " max_abs_diff=" + r.maxAbsDiff());
    assertTrue(r.maxAbsDiff() < 1e-4, "max_abs_diff=" + r.maxAbsDiff());
  }

  @Test
  void singleInputsMatchOnnxRuntime() {
    for (String t : List.of("hello world", "Pneumothorax is seen in the right apex.")) {
      OnnxParity.Result r = OnnxParity.run(onnx, TokenizedBatch.of(tokenizer, List.of(t), 0, 512), cfg);
      System.out.println("MiniLM '" + t + "' max_abs_diff=" + r.maxAbsDiff());
      assertTrue(r.maxAbsDiff() < 1e-4, t + ": max_abs_diff=" + r.maxAbsDiff());
    }
  }
}
