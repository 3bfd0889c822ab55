package org.m3ae.weights;

import java.util.LinkedHashMap;
import java.util.Map;
import org.m3ae.model.ModelConfig;

/**
 * The official M3AE pre-training state_dict keys with PyTorch shapes, written out from the key
 * list in SPEC §4 (not from the graph builder), for a configuration's sizes. {@code ckptGrid} is
 * the checkpoint's positional-embedding grid, which may differ from the configured resolution.
 */
final class M3aeCheckpointKeys {
  private M3aeCheckpointKeys() {}

  static Map<String, long[]> of(ModelConfig c, int ckptGrid) {
    Map<String, long[]> k = new LinkedHashMap<>();
    var v = c.vision().encoder();
    int dv = v.width();
    int p = c.vision().patchSize();
    String vp = "vision_encoder.visual.";
    k.put(vp + "class_embedding", new long[] {dv});
    k.put(vp + "positional_embedding", new long[] {ckptGrid * ckptGrid + 1, dv});
    k.put(vp + "conv1.weight", new long[] {dv, c.vision().channels(), p, p});
    ln(k, vp + "ln_pre", dv);
    for (int i = 0; i < v.layers(); i++) clipBlock(k, vp + "transformer.resblocks." + i, dv, v.mlpDim());
    ln(k, vp + "ln_post", dv);
    k.put("vision_encoder.token_embedding.weight", new long[] {49408, 512});
    k.put("vision_encoder.positional_embedding", new long[] {77, 512});
    ln(k, "vision_encoder.ln_final", 512);

    var t = c.text().encoder();
    int dt = t.width();
    String lp = "language_encoder.";
    k.put(lp + "embeddings.word_embeddings.weight", new long[] {c.text().vocabSize(), dt});
    k.put(lp + "embeddings.position_embeddings.weight", new long[] {c.text().maxPositions(), dt});
    k.put(lp + "embeddings.token_type_embeddings.weight", new long[] {c.text().typeVocabSize(), dt});
    ln(k, lp + "embeddings.LayerNorm", dt);
    k.put(lp + "embeddings.position_ids", new long[] {1, c.text().maxPositions()});
    for (int i = 0; i < t.layers(); i++) bertLayer(k, lp + "encoder.layer." + i, dt, t.mlpDim(), false);
    linear(k, lp + "pooler.dense", dt, dt);

    int df = c.fusion().width();
    linear(k, "multi_modal_language_proj", dt, df);
    linear(k, "multi_modal_vision_proj", dv, df);
    k.put("modality_type_embeddings.weight", new long[] {c.fusion().modalityTypes(), df});
    for (String s : new String[] {"language", "vision"}) {
      for (int j = 0; j < c.fusion().layers(); j++) {
        bertLayer(k, "multi_modal_" + s + "_layers." + j, df, c.fusion().mlpDim(), true);
      }
    }
    linear(k, "multi_modal_language_pooler.dense", df, df);
    linear(k, "multi_modal_vision_pooler.dense", df, df);

    linear(k, "mlm_head.transform.dense", df, df);
    ln(k, "mlm_head.transform.LayerNorm", df);
    k.put("mlm_head.decoder.weight", new long[] {c.text().vocabSize(), df});
    k.put("mlm_head.bias", new long[] {c.text().vocabSize()});

    var d = c.mim().decoder();
    int dd = d.width();
    int n = c.vision().numPatches();
    k.put("mim_head.mask_token", new long[] {1, 1, dd});
    k.put("mim_head.decoder_pos_embed", new long[] {1, n + 1, dd});
    linear(k, "mim_head.decoder_embed", df, dd);
    for (int i = 0; i < d.layers(); i++) clipBlock(k, "mim_head.decoder.resblocks." + i, dd, d.mlpDim());
    ln(k, "mim_head.decoder_norm", dd);
    linear(k, "mim_head.decoder_pred", dd, c.vision().patchDim());
    linear(k, "itm_head.fc", 2 * df, c.itm().classes());
    return k;
  }

  private static void ln(Map<String, long[]> k, String p, int d) {
    k.put(p + ".weight", new long[] {d});
    k.put(p + ".bias", new long[] {d});
  }

  /** nn.Linear(in, out): weight [out, in]. */
  private static void linear(Map<String, long[]> k, String p, int in, int out) {
    k.put(p + ".weight", new long[] {out, in});
    k.put(p + ".bias", new long[] {out});
  }

  private static void clipBlock(Map<String, long[]> k, String p, int d, int mlp) {
    k.put(p + ".attn.in_proj_weight", new long[] {3L * d, d});
    k.put(p + ".attn.in_proj_bias", new long[] {3L * d});
    linear(k, p + ".attn.out_proj", d, d);
    ln(k, p + ".ln_1", d);
    linear(k, p + ".mlp.c_fc", d, mlp);
    linear(k, p + ".mlp.c_proj", mlp, d);
    ln(k, p + ".ln_2", d);
  }

  private static void bertLayer(Map<String, long[]> k, String p, int d, int mlp, boolean cross) {
    for (String a : cross ? new String[] {"attention", "crossattention"} : new String[] {"attention"}) {
      for (String q : new String[] {"query", "key", "value"}) linear(k, p + "." + a + ".self." + q, d, d);
      linear(k, p + "." + a + ".output.dense", d, d);
      ln(k, p + "." + a + ".output.LayerNorm", d);
    }
    linear(k, p + ".intermediate.dense", d, mlp);
    linear(k, p + ".output.dense", mlp, d);
    ln(k, p + ".output.LayerNorm", d);
  }
}
