package org.m3ae.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.m3ae.masking.MlmMasking;
import org.m3ae.model.ModelConfig;
import org.m3ae.tasks.TaskConfig;
import org.m3ae.weights.WeightImport;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The optimisation defaults follow M3AE's code (m3ae_utils.py {@code set_schedule}; no {@code gradient_clip_val} in
 * main.py's Trainer; {@code whole_word_masking=True}), and the earlier behaviours stay reachable as switches. The
 * no-decay grouping is checked name by name against the official substring list worked out by hand.
 */
class FaithfulDefaultsTest {
  private static final Path DIR = Path.of("src/test/resources/ckpt");

  /** name → {decays under M3AE's rule, decays under norms_and_gains}, worked out by hand from the two rules. */
  private static final Map<String, boolean[]> HAND = new LinkedHashMap<>();

  private static void hand(String name, boolean m3ae, boolean normsAndGains) {
    HAND.put(name, new boolean[] {m3ae, normsAndGains});
  }

  static {
    // CLIP: ln_* and class_embedding contain none of M3AE's substrings ("ln_pre.weight" has no "norm") → decayed
    hand("vision_encoder.visual.class_embedding", true, false); // 1-D
    hand("vision_encoder.visual.positional_embedding", true, true);
    hand("vision_encoder.visual.conv1.weight", true, true);
    hand("vision_encoder.visual.ln_pre.weight", true, false);
    hand("vision_encoder.visual.ln_pre.bias", false, false);
    hand("vision_encoder.visual.ln_post.weight", true, false);
    hand("vision_encoder.visual.transformer.resblocks.0.ln_1.weight", true, false);
    hand("vision_encoder.visual.transformer.resblocks.0.attn.q_proj.weight", true, true);
    hand("vision_encoder.visual.transformer.resblocks.0.attn.q_proj.bias", false, false);
    hand("vision_encoder.visual.transformer.resblocks.0.mlp.c_fc.weight", true, true);
    // RoBERTa and the cross layers: "LayerNorm.weight" / "bias" → not decayed under both
    hand("language_encoder.embeddings.word_embeddings.weight", true, true);
    hand("language_encoder.embeddings.LayerNorm.weight", false, false);
    hand("language_encoder.encoder.layer.0.attention.output.LayerNorm.weight", false, false);
    hand("language_encoder.encoder.layer.0.intermediate.dense.weight", true, true);
    hand("multi_modal_language_layers.0.crossattention.output.LayerNorm.bias", false, false);
    hand("multi_modal_vision_layers.1.output.dense.weight", true, true);
    hand("modality_type_embeddings.weight", true, true);
    hand("multi_modal_vision_pooler.dense.bias", false, false);
    // heads: "decoder_norm.weight" contains "norm.weight"; the MIM decoder's CLIP blocks have ln_1/ln_2
    hand("mlm_head.bias", false, false);
    hand("mlm_head.transform.LayerNorm.weight", false, false);
    hand("mim_head.mask_token", true, true); // [1, 1, Dd]
    hand("mim_head.decoder_norm.weight", false, false);
    hand("mim_head.decoder.resblocks.0.ln_2.weight", true, false);
    hand("itm_head.fc.weight", true, true);
    // nn.Sequential's LayerNorm is ".1.weight": none of the substrings → decayed by M3AE
    hand("vqa_head.1.weight", true, false);
    hand("vqa_head.0.weight", true, true);
    hand("vqa_head.3.bias", false, false);
  }

  @Test
  void noDecayGroupingMatchesTheHandWorkedSplitOnNamedParameters() {
    // the names are the graph's own (checkpoint names): every non-head one exists in the imported micro M3AE
    SameDiff sd = WeightImport.run(ModelConfig.load(DIR.resolve("micro-m3ae.yaml")), DIR.resolve("micro-m3ae.safetensors"),
        null, null).graph().sd();
    for (var e : HAND.entrySet()) {
      String n = e.getKey();
      if (!n.startsWith("vqa_head.")) assertNotNull(sd.getVariable(n), "graph has no variable " + n);
      long[] shape = n.startsWith("vqa_head.") ? (n.endsWith(".0.weight") ? new long[] {4, 4} : new long[] {4})
          : sd.getVariable(n).getArr().shape();
      assertEquals(e.getValue()[0], NoDecay.M3AE.decays(n, shape), "m3ae: " + n);
      assertEquals(e.getValue()[1], NoDecay.NORMS_AND_GAINS.decays(n, shape), "norms_and_gains: " + n);
    }
  }

  @Test
  void adamWDecaysClassEmbeddingByDefaultAndNotUnderTheOldRule() {
    // zero gradient: m = v = 0, so the Adam step is 0 and one step leaves w·(1 − lr·λ) exactly where the name decays
    String name = "vision_encoder.visual.class_embedding";
    for (NoDecay rule : NoDecay.values()) {
      AdamW adam = rule == NoDecay.M3AE ? new AdamW(new AdamW.Settings(0.9, 0.98, 1e-8, 0.1))
          : new AdamW(new AdamW.Settings(0.9, 0.98, 1e-8, 0.1, rule));
      INDArray w = Nd4j.create(new float[] {2f, -4f}, new long[] {2}, 'c');
      adam.step(Map.of(name, w), Map.of(name, Nd4j.zeros(2)), n -> 0.5);
      float f = rule == NoDecay.M3AE ? 1f - 0.5f * 0.1f : 1f;
      assertEquals(2f * f, w.getFloat(0), 1e-6f, rule.id());
      assertEquals(-4f * f, w.getFloat(1), 1e-6f, rule.id());
    }
  }

  @Test
  void clippingIsOffAndTheM3aeRulesApplyWhenTheConfigSaysNothing(@TempDir Path dir) throws Exception {
    Path run = dir.resolve("run.yaml");
    Files.writeString(run, "name: r\nmodel: m.yaml\ndata: {pipeline: p.yaml}\ntrain: {steps: 10, batch_size: 2, lr: 1.0e-5}\n");
    RunConfig rc = RunConfig.load(run);
    assertEquals(0.0, rc.train().optimization().clipNorm());
    assertEquals(NoDecay.M3AE, rc.train().optimization().noDecay());
    assertEquals(MlmMasking.WHOLE_WORD, rc.train().mlmMasking());

    Path task = dir.resolve("task.yaml");
    Files.writeString(task, "name: t\ntask: vqa\nmodel: m.yaml\ndata: {pipeline: p.yaml}\ntrain: {epochs: 1, batch_size: 2, lr: 1.0e-5}\n");
    TaskConfig tc = TaskConfig.load(task);
    assertEquals(0.0, tc.train().optimization().clipNorm());
    assertEquals(NoDecay.M3AE, tc.train().optimization().noDecay());

    // the earlier behaviours, as switches
    Files.writeString(run, "name: r\nmodel: m.yaml\ndata: {pipeline: p.yaml}\ntrain: {steps: 10, batch_size: 2, lr: 1.0e-5, "
        + "clip_norm: 1.0, no_decay: norms_and_gains, mlm_masking: per_token}\n");
    rc = RunConfig.load(run);
    assertEquals(1.0, rc.train().optimization().clipNorm());
    assertEquals(NoDecay.NORMS_AND_GAINS, rc.train().optimization().noDecay());
    assertEquals(MlmMasking.PER_TOKEN, rc.train().mlmMasking());

    Files.writeString(run, "name: r\nmodel: m.yaml\ndata: {pipeline: p.yaml}\ntrain: {steps: 10, batch_size: 2, lr: 1.0e-5, "
        + "no_decay: none}\n");
    Exception e = assertThrows(RuntimeException.class, () -> RunConfig.load(run));
    assertEquals(true, String.valueOf(e.getMessage()).contains("no_decay"), e.getMessage());
  }
}
