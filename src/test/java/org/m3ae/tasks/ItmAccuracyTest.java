package org.m3ae.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.m3ae.data.BadRecordPolicy;
import org.m3ae.data.config.PipelineLoader;
import org.m3ae.data.pipeline.DataPipeline;
import org.m3ae.model.BuildOptions;
import org.m3ae.model.M3aeGraph;
import org.m3ae.model.M3aeModel;
import org.m3ae.model.ModelConfig;
import org.m3ae.model.ModelConfigLoader;
import org.m3ae.weights.GraphWeights;
import org.m3ae.weights.WeightsException;
import org.nd4j.linalg.factory.Nd4j;

/**
 * ITM accuracy against hand-computed values: with the ITM head's weight zeroed and its bias (0, b), every pair gets
 * the logit difference b whatever the model sees, so the accuracy is the share of matched pairs and the loss is
 * log(1 + e^{−b}) on those and log(1 + e^{b}) on the others.
 */
class ItmAccuracyTest {
  static final String MODEL = """
      name: micro-itm
      vision: {image_size: 32, patch_size: 16, channels: 3,
        encoder: {width: 16, layers: 1, heads: 2, mlp_dim: 32, activation: quick_gelu, norm: pre, ln_eps: 1.0e-5}}
      text: {vocab_size: 117, max_positions: 48, type_vocab_size: 1, pad_token_id: 0, position_ids: absolute,
        max_text_len: 40, encoder: {width: 16, layers: 1, heads: 2, mlp_dim: 32, activation: gelu, norm: post,
        ln_eps: 1.0e-5}}
      fusion: {width: 16, layers: 1, heads: 2, mlp_dim: 32, activation: gelu, ln_eps: 1.0e-12, modality_types: 2}
      mim: {layer: -1, mask_ratio: 0.75, norm_pix_loss: true,
        decoder: {width: 16, layers: 1, heads: 2, mlp_dim: 32, activation: quick_gelu, norm: pre, ln_eps: 1.0e-5}}
      mlm: {activation: gelu, ln_eps: 1.0e-12}
      itm: {classes: 2}
      init: {std: 0.02, seed: 3}
      """;

  @Test
  void aConstantHeadScoresTheShareOfMatchedPairs(@TempDir Path dir) {
    ModelConfig cfg = ModelConfigLoader.parse(MODEL.getBytes(), "micro-itm");
    M3aeGraph src = M3aeModel.build(cfg, BuildOptions.defaults().withPass(
        org.m3ae.model.PassSpec.inference().withHeads(org.m3ae.model.PassSpec.Head.ITM)));
    double b = 0.7;
    src.sd().getArrForVarName("itm_head.fc.weight").assign(0);
    src.sd().getArrForVarName("itm_head.fc.bias").assign(Nd4j.createFromArray(0f, (float) b));
    Path weights = dir.resolve("w.safetensors");
    GraphWeights.write(src.sd(), weights, cfg.name());

    M3aeGraph g = ItmAccuracy.load(cfg, weights);
    try (DataPipeline data = DataPipeline.open(PipelineLoader.load(Path.of("data-pipelines/synthetic.yaml"))
        .withImageSize(32), BadRecordPolicy.SKIP)) {
      int n = data.records("val").size();
      int batch = 6;
      ItmAccuracy.Result r = ItmAccuracy.evaluate(g, data, "val", batch, 1, 1);
      assertEquals(n, r.pairs(), "every pair of the split is scored once");
      // floor(B/2) of every batch are shown another image (ItmSampler), the rest their own
      int matched = 0;
      for (int start = 0; start < n; start += batch) {
        int size = Math.min(batch, n - start);
        matched += size - size / 2;
      }
      assertEquals((double) matched / n, r.accuracy(), 1e-12);
      double loss = (matched * Math.log1p(Math.exp(-b)) + (n - matched) * Math.log1p(Math.exp(b))) / n;
      assertEquals(loss, r.loss(), 1e-6);
      assertTrue(n > 10, "the synthetic val split has " + n + " pairs");
    }
  }

  @Test
  void aCheckpointWithoutTheItmHeadIsRefused(@TempDir Path dir) {
    ModelConfig cfg = ModelConfigLoader.parse(MODEL.getBytes(), "micro-itm");
    Path weights = dir.resolve("backbone.safetensors");
    GraphWeights.write(M3aeModel.build(cfg, BuildOptions.defaults()).sd(), weights, cfg.name());
    WeightsException e = assertThrows(WeightsException.class, () -> ItmAccuracy.load(cfg, weights));
    assertTrue(e.getMessage().contains("itm_head.fc"), e.getMessage());
    assertTrue(e.getMessage().contains(weights.toString()), e.getMessage());
  }
}
