package org.m3ae.tasks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.m3ae.data.text.TextTokenizer;
import org.m3ae.data.text.TokenizerSpec;
import org.m3ae.data.text.TokenizerStyle;
import org.m3ae.model.ModelConfig;
import org.m3ae.weights.Bicubic;
import org.m3ae.weights.GraphWeights;
import org.m3ae.weights.SafetensorsReader;
import org.m3ae.weights.WeightImport;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.m3ae.testing.Exact;

/**
 * {@code finetune --init} and {@code evaluate --checkpoint} read the same files as {@code import}: the official
 * M3AE layout straight from a PyTorch-written .ckpt (src/test/resources/ckpt, scripts/fixtures/make_ckpt_fixtures.py),
 * and a run's graph-layout weights; both resize the vision position grid when the task's image size differs from the
 * checkpoint's (288 → 384 px in the paper; 8 → 12 px here).
 */
class CheckpointInitTest {
  private static final Path DIR = Path.of("src/test/resources/ckpt");
  private static final Path CKPT = DIR.resolve("micro-m3ae-lightning.ckpt");
  private static final Path TWIN = DIR.resolve("micro-m3ae.safetensors");
  private static final ModelConfig MICRO = ModelConfig.load(DIR.resolve("micro-m3ae.yaml"));
  private static final String POS = "vision_encoder.visual.positional_embedding";
  // the micro model's 50-row embeddings are not RoBERTa-indexed, so any tokenizer may feed them
  private static final TextTokenizer SYNTHETIC_TOKENS =
      TextTokenizer.load(new TokenizerSpec(TokenizerSpec.EMBEDDED_SYNTHETIC, TokenizerStyle.BERT, 8));

  private static ModelConfig atImageSize(int px) {
    var v = MICRO.vision();
    return new ModelConfig(MICRO.name(), new ModelConfig.Vision(px, v.patchSize(), v.channels(), v.encoder()),
        MICRO.text(), MICRO.fusion(), MICRO.mim(), MICRO.mlm(), MICRO.itm(), MICRO.init());
  }

  private static PrintStream quiet() {
    return new PrintStream(new ByteArrayOutputStream(), true);
  }

  @Test
  void finetuneInitReadsTheLightningCheckpointAsImportDoes() {
    var imported = WeightImport.run(MICRO, TWIN, null, null).graph().sd();
    TaskGraph g = TaskGraph.inference(MICRO, TaskKind.RETRIEVAL, 0, 8);
    FinetuneRun.loadPretrained(g, CKPT, SYNTHETIC_TOKENS, quiet());
    int compared = 0;
    for (SDVariable v : g.sd().variables()) {
      if (v.getVariableType() != VariableType.VARIABLE || FinetuneRun.isTaskHead(v.name())) continue;
      Exact.assertBitEqual(imported.getVariable(v.name()).getArr(), v.getArr(), v.name());
      compared++;
    }
    assertTrue(compared > 100, compared + " backbone variables");
    // irtr_head from the ITM head's match row, read in PyTorch's [2, in] layout
    try (SafetensorsReader r = SafetensorsReader.open(TWIN)) {
      float[] w = r.readFloats("itm_head.fc.weight");
      int in = (int) r.shape("itm_head.fc.weight")[1];
      INDArray hw = g.irtr().w().getArr();
      for (int i = 0; i < in; i++) assertEquals(w[in + i], hw.getFloat(i, 0), 0f, "irtr_head.weight " + i);
      assertEquals(r.readFloats("itm_head.fc.bias")[1], g.irtr().b().getArr().getFloat(0), 0f);
    }
  }

  @Test
  void bothLayoutsResizeThePositionGrid(@TempDir Path dir) {
    float[] source;
    try (SafetensorsReader r = SafetensorsReader.open(TWIN)) {
      source = r.readFloats(POS);
    }
    int d = MICRO.vision().encoder().width();
    float[] want = Bicubic.resizePositionEmbedding(source, 5, d, 10); // 2×2 patches + CLS → 3×3 + CLS

    TaskGraph fromCkpt = TaskGraph.inference(atImageSize(12), TaskKind.VQA, 5, 8);
    FinetuneRun.loadPretrained(fromCkpt, CKPT, SYNTHETIC_TOKENS, quiet());
    assertArrayEquals(want, fromCkpt.sd().getVariable(POS).getArr().dup('c').data().asFloat());

    // a fine-tuned run at 8 px (graph layout, task head included) evaluated at 12 px
    TaskGraph run = TaskGraph.inference(MICRO, TaskKind.VQA, 5, 8);
    FinetuneRun.loadPretrained(run, CKPT, SYNTHETIC_TOKENS, quiet());
    Path weights = dir.resolve("model.safetensors");
    GraphWeights.write(run.sd(), weights, MICRO.name());
    TaskGraph eval = TaskGraph.inference(atImageSize(12), TaskKind.VQA, 5, 8);
    FinetuneRun.loadInto(eval.sd(), weights);
    assertArrayEquals(want, eval.sd().getVariable(POS).getArr().dup('c').data().asFloat());
    Exact.assertBitEqual(run.sd().getVariable("vqa_head.3.weight").getArr(), eval.sd().getVariable("vqa_head.3.weight").getArr(), "vqa_head.3.weight");
  }
}
