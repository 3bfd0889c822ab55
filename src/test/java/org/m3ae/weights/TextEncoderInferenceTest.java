package org.m3ae.weights;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.m3ae.model.ModelConfig;

/**
 * The text encoder inferred from the file, checked against ONNX Runtime on two real BERT-family exports of different
 * depth from Maven Central: all-MiniLM-L6-v2 (6 layers) and bge-small-en-v1.5 (12 layers), neither with a config.json,
 * so heads and LayerNorm epsilon come from the ONNX graph.
 */
class TextEncoderInferenceTest {
  static final ModelConfig BASE = ModelConfig.load(Path.of("configs/models/minilm-l6-text.yaml"));
  static final List<String> TEXTS = List.of("A chest X-ray shows no acute cardiopulmonary abnormality.", "Is there a pleural effusion?",
      "MRI: 2.3 cm enhancing lesion, left temporal lobe; consistent with glioma (grade IV)?", "ok");

  @TempDir static Path dir;
  static Path minilm, minilmTok, bge, bgeTok;

  @BeforeAll
  static void extract() throws IOException {
    minilm = OnnxInitializersTest.miniLmOnnx(dir);
    minilmTok = OnnxInitializersTest.extract(dir, "all-minilm-l6-v2-tokenizer.json");
    bge = OnnxInitializersTest.extract(dir, "bge-small-en-v1.5.onnx");
    bgeTok = OnnxInitializersTest.extract(dir, "bge-small-en-v1.5-tokenizer.json");
  }

  static ModelConfig.Text infer(Path onnx) {
    return TextEncoderInference.infer(onnx, BASE, TextEncoderInference.Overrides.NONE).config().text();
  }

  @Test
  void miniLmIsInferredAsTheHandWrittenConfigAndMatchesOnnxRuntime() {
    ModelConfig.Text t = infer(minilm);
    ModelConfig.Text want = BASE.text(); // the hand-written MiniLM config this replaces
    assertEquals(want.vocabSize(), t.vocabSize());
    assertEquals(want.maxPositions(), t.maxPositions());
    assertEquals(want.typeVocabSize(), t.typeVocabSize());
    assertEquals(want.padTokenId(), t.padTokenId());
    assertEquals(want.positionIds(), t.positionIds());
    assertEquals(want.encoder().width(), t.encoder().width());
    assertEquals(want.encoder().layers(), t.encoder().layers());
    assertEquals(want.encoder().heads(), t.encoder().heads());
    assertEquals(want.encoder().mlpDim(), t.encoder().mlpDim());
    assertEquals(want.encoder().activation(), t.encoder().activation());
    assertEquals(want.encoder().lnEps(), t.encoder().lnEps()); // float32 1e-12 in the graph, read back as 1e-12
    parity(minilm, minilmTok, 6);
  }

  @Test
  void twelveLayerBgeIsInferredFromTheGraphAndMatchesOnnxRuntime() {
    ModelConfig.Text t = infer(bge);
    assertEquals(12, t.encoder().layers());
    assertEquals(384, t.encoder().width());
    assertEquals(12, t.encoder().heads());
    assertEquals(1536, t.encoder().mlpDim());
    assertEquals(30522, t.vocabSize());
    assertEquals(512, t.maxPositions());
    assertEquals(2, t.typeVocabSize());
    assertEquals(ModelConfig.PositionIds.ABSOLUTE, t.positionIds());
    assertEquals(1e-12, t.encoder().lnEps());
    parity(bge, bgeTok, 12);
  }

  static void parity(Path onnx, Path tok, int layers) {
    ModelConfig cfg = TextEncoderInference.infer(onnx, BASE, TextEncoderInference.Overrides.NONE).config();
    TokenizedBatch batch = TokenizedBatch.of(tok, TEXTS, 0, 512);
    assertTrue(batch.mask()[3][batch.length() - 1] == 0, "the short text must be padded");
    OnnxParity.Result r = OnnxParity.run(onnx, batch, cfg);
    assertEquals(0, r.report().missing().size(), r.report().missing().toString());
    System.out.println(onnx.getFileName() + " (" + layers + " layers, inferred) padded batch " + r.batch() + "x" + r.length()
        + " max_abs_diff=" + r.maxAbsDiff());
    assertTrue(r.maxAbsDiff() < 1e-4, "max_abs_diff=" + r.maxAbsDiff());
  }

  @Test
  void aDeeperFileThanTheConfigIsAnErrorNamingTheFirstExtraTensorAndBothDepths() {
    // the old default: bge's 12 layers loaded into the hand-written 6-layer MiniLM config
    TokenizedBatch batch = TokenizedBatch.of(bgeTok, List.of("hello world"), 0, 512);
    WeightsException e = assertThrows(WeightsException.class, () -> OnnxParity.run(bge, batch, BASE));
    assertTrue(e.getMessage().contains("'encoder.layer.6.") && e.getMessage().contains("file has 12 layers, config builds 6")
        && e.getMessage().contains(bge.toString()), e.getMessage());
  }

  @Test
  void configJsonBesideTheFileIsReadAndCheckedAgainstTheTensors() throws IOException {
    Path d = Files.createDirectories(dir.resolve("with-config"));
    Path f = Files.createSymbolicLink(d.resolve("model.onnx"), bge);
    Files.writeString(d.resolve("config.json"), "{\"model_type\": \"bert\", \"hidden_size\": 384, \"num_hidden_layers\": 12, "
        + "\"num_attention_heads\": 6, \"layer_norm_eps\": 1e-7, \"hidden_act\": \"gelu\", \"pad_token_id\": 0}");
    var r = TextEncoderInference.infer(f, BASE, TextEncoderInference.Overrides.NONE);
    // config.json wins over the graph (6 heads and 1e-7 are not bge's; they show where the values came from)
    assertEquals(6, r.config().text().encoder().heads());
    assertEquals(1e-7, r.config().text().encoder().lnEps());
    assertTrue(r.notes().stream().anyMatch(n -> n.contains("heads 6") && n.contains("config.json")), r.notes().toString());
    // --heads / --ln-eps override both
    var o = TextEncoderInference.infer(f, BASE, new TextEncoderInference.Overrides(12, 1e-12));
    assertEquals(12, o.config().text().encoder().heads());
    assertEquals(1e-12, o.config().text().encoder().lnEps());

    Files.writeString(d.resolve("config.json"), "{\"num_hidden_layers\": 6, \"num_attention_heads\": 12}");
    WeightsException e = assertThrows(WeightsException.class, () -> TextEncoderInference.infer(f, BASE, TextEncoderInference.Overrides.NONE));
    assertTrue(e.getMessage().contains(d.resolve("config.json").toString()) && e.getMessage().contains("num_hidden_layers 6")
        && e.getMessage().contains("12 layers"), e.getMessage());
  }

  @Test
  void withoutConfigJsonOrGraphTheHeadsAreAskedFor() {
    Path f = dir.resolve("bert-no-config.safetensors");
    new SafetensorsWriter()
        .add("embeddings.word_embeddings.weight", new long[] {10, 8}, new float[80])
        .add("embeddings.position_embeddings.weight", new long[] {16, 8}, new float[128])
        .add("embeddings.token_type_embeddings.weight", new long[] {2, 8}, new float[16])
        .add("encoder.layer.0.intermediate.dense.weight", new long[] {32, 8}, new float[256])
        .add("encoder.layer.1.intermediate.dense.weight", new long[] {32, 8}, new float[256])
        .write(f);
    WeightsException e = assertThrows(WeightsException.class, () -> TextEncoderInference.infer(f, BASE, TextEncoderInference.Overrides.NONE));
    assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("--heads"), e.getMessage());
    e = assertThrows(WeightsException.class, () -> TextEncoderInference.infer(f, BASE, new TextEncoderInference.Overrides(2, null)));
    assertTrue(e.getMessage().contains("--ln-eps"), e.getMessage());
    ModelConfig.Text t = TextEncoderInference.infer(f, BASE, new TextEncoderInference.Overrides(2, 1e-12)).config().text();
    assertEquals(2, t.encoder().layers());
    assertEquals(32, t.encoder().mlpDim());
    assertEquals(10, t.vocabSize());
    assertEquals(16, t.maxPositions());
  }
}
