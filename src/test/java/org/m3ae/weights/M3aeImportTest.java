package org.m3ae.weights;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.m3ae.model.M3aeGraph;
import org.m3ae.model.ModelConfig;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A checkpoint with the official M3AE keys (SPEC §4) and random values, written by the project's
 * writer, imported into the graph; sampled tensors are checked through every transform.
 */
class M3aeImportTest {

  @TempDir Path dir;

  static final Set<String> EXPECTED_UNUSED = Set.of(
      "vision_encoder.token_embedding.weight", "vision_encoder.positional_embedding",
      "vision_encoder.ln_final.weight", "vision_encoder.ln_final.bias",
      "language_encoder.embeddings.position_ids",
      "language_encoder.pooler.dense.weight", "language_encoder.pooler.dense.bias");

  @Test
  void tinyTeacherEveryTransform() {
    ModelConfig cfg = ModelConfig.load(Path.of("configs/models/tiny-teacher.yaml"));
    importAndCheck(cfg, 3); // checkpoint grid 3×3 → configured 4×4: interpolation exercised
  }

  @Test
  void tinyTeacherAtCheckpointResolutionCopiesPositions() {
    ModelConfig cfg = ModelConfig.load(Path.of("configs/models/tiny-teacher.yaml"));
    importAndCheck(cfg, cfg.vision().gridSize());
  }

  /** The full teacher: ~392 M values, a 1.6 GB file; the graph holds ~1.47 GB off-heap. */
  @Test
  void fullTeacherKeySet() {
    ModelConfig cfg = ModelConfig.load(Path.of("configs/models/teacher-m3ae.yaml"));
    importAndCheck(cfg, 14); // CLIP's 224-px grid → 288 px (18×18), as M3AE's build_model does
  }

  @Test
  void shapeMismatchNamesKeyAndBothShapes() {
    ModelConfig cfg = ModelConfig.load(Path.of("configs/models/tiny-teacher.yaml"));
    Map<String, long[]> keys = M3aeCheckpointKeys.of(cfg, cfg.vision().gridSize());
    keys.put("multi_modal_vision_layers.1.intermediate.dense.weight", new long[] {500, 128});
    Path f = dir.resolve("bad.safetensors");
    CheckpointValues.write(keys, f);
    WeightsException e = assertThrows(WeightsException.class,
        () -> WeightImport.run(cfg, f, null, null));
    String m = e.getMessage();
    assertTrue(m.contains("bad.safetensors") && m.contains("multi_modal_vision_layers.1.intermediate.dense.weight")
        && m.contains("[500, 128]") && m.contains("[128, 512]"), m);
  }

  /** Graph-layout safetensors (the route for graphs too big for a SameDiff save) round-trip exactly. */
  @Test
  void graphLayoutSafetensorsRoundTrip() {
    ModelConfig cfg = ModelConfig.load(Path.of("configs/models/tiny-teacher.yaml"));
    Path ckpt = dir.resolve("ckpt.safetensors");
    CheckpointValues.write(M3aeCheckpointKeys.of(cfg, cfg.vision().gridSize()), ckpt);
    Path graphFile = dir.resolve("graph.safetensors");
    WeightImport.Result first = WeightImport.run(cfg, ckpt, graphFile, null);
    WeightImport.Result again = WeightImport.run(cfg, graphFile, null, null);
    assertEquals(Map.of(), again.report().missing());
    assertEquals(Map.of(), again.report().unused());
    for (var v : first.graph().trainable()) {
      assertTrue(java.util.Arrays.equals(v.getArr().data().asFloat(),
          again.graph().sd().getVariable(v.name()).getArr().data().asFloat()), v.name());
    }
  }

  private void importAndCheck(ModelConfig cfg, int ckptGrid) {
    Map<String, long[]> keys = M3aeCheckpointKeys.of(cfg, ckptGrid);
    Path f = dir.resolve("m3ae.safetensors");
    CheckpointValues.write(keys, f);
    long t0 = System.nanoTime();
    WeightImport.Result r = WeightImport.run(cfg, f, null, null);
    System.out.printf("%s: import of %d keys in %d ms (build %d ms, load %d ms): %s%n", cfg.name(),
        keys.size(), (System.nanoTime() - t0) / 1_000_000, r.buildMs(), r.loadMs(), r.report().summary());
    LoadReport rep = r.report();
    assertEquals(Map.of(), rep.missing(), "missing");
    assertEquals(EXPECTED_UNUSED, rep.unused().keySet());
    assertEquals(r.graph().trainable().size(), rep.loaded().size());
    assertEquals(1, rep.checked().size());
    assertEquals("mim_head.decoder_pos_embed", rep.checked().get(0).variable());
    M3aeGraph g = r.graph();
    int dv = cfg.vision().encoder().width();
    int last = cfg.vision().encoder().layers() - 1;

    // Linear weights transposed: graph [in, out] = checkpoint [out, in]ᵀ
    for (String k : new String[] {"language_encoder.encoder.layer.0.attention.self.query.weight",
        "multi_modal_vision_layers.0.crossattention.self.key.weight",
        "language_encoder.encoder.layer.1.intermediate.dense.weight",
        "vision_encoder.visual.transformer.resblocks." + last + ".mlp.c_proj.weight",
        "mlm_head.decoder.weight", "itm_head.fc.weight", "mim_head.decoder_pred.weight",
        "multi_modal_language_proj.weight"}) {
      assertTransposed(g, keys, k, k);
    }
    // q/k/v split from the packed rows q|k|v, then transposed; biases split
    String[] parts = {"q", "k", "v"};
    for (String blk : new String[] {"vision_encoder.visual.transformer.resblocks." + last,
        "mim_head.decoder.resblocks.0"}) {
      long[] ps = keys.get(blk + ".attn.in_proj_weight");
      float[] packed = CheckpointValues.of(blk + ".attn.in_proj_weight", ps);
      float[] packedB = CheckpointValues.of(blk + ".attn.in_proj_bias", keys.get(blk + ".attn.in_proj_bias"));
      int d = (int) ps[1];
      for (int p = 0; p < 3; p++) {
        INDArray w = arr(g, blk + ".attn." + parts[p] + "_proj.weight");
        INDArray b = arr(g, blk + ".attn." + parts[p] + "_proj.bias");
        for (int[] io : new int[][] {{0, 0}, {1, 2}, {d - 1, d - 1}, {d / 2, 3}}) {
          assertEquals(packed[(p * d + io[1]) * d + io[0]], w.getFloat(io[0], io[1]), blk + " " + parts[p]);
        }
        assertEquals(packedB[p * d + d - 1], b.getFloat(d - 1));
      }
    }
    // conv1: row (c·P + kh)·P + kw of the patch Linear is kernel element [o][c][kh][kw]
    long[] cs = keys.get("vision_encoder.visual.conv1.weight");
    float[] conv = CheckpointValues.of("vision_encoder.visual.conv1.weight", cs);
    INDArray gc = arr(g, "vision_encoder.visual.conv1.weight");
    int pz = (int) cs[2];
    for (int[] o : new int[][] {{0, 0, 0, 0}, {dv - 1, 2, pz - 1, 1}, {5, 1, 3, pz - 1}}) {
      int ci = o[1], kh = o[2], kw = o[3];
      assertEquals(conv[((o[0] * 3 + ci) * pz + kh) * pz + kw], gc.getFloat((ci * pz + kh) * pz + kw, o[0]));
    }
    // positional embedding: CLS row kept, patch grid bicubic against the independent reference
    String pk = "vision_encoder.visual.positional_embedding";
    float[] pos = CheckpointValues.of(pk, keys.get(pk));
    INDArray gp = arr(g, pk);
    int gOut = cfg.vision().gridSize();
    for (int ch : new int[] {0, dv - 1}) assertEquals(pos[ch], gp.getFloat(0, ch));
    for (int ch : new int[] {0, 7, dv - 1}) {
      double[][] plane = new double[ckptGrid][ckptGrid];
      for (int y = 0; y < ckptGrid; y++) {
        for (int x = 0; x < ckptGrid; x++) plane[y][x] = pos[(1 + y * ckptGrid + x) * dv + ch];
      }
      for (int[] yx : new int[][] {{0, 0}, {gOut - 1, gOut - 1}, {1, gOut - 2}, {gOut / 2, gOut / 3}}) {
        double ref = BicubicTest.reference(plane, gOut, gOut, yx[0], yx[1]);
        assertEquals(ref, gp.getFloat(1 + yx[0] * gOut + yx[1], ch), 1e-5, "pos " + yx[0] + "," + yx[1]);
      }
    }
    // copied as is: embeddings, norms, biases, CLS, mask token
    for (String k : new String[] {"language_encoder.embeddings.word_embeddings.weight",
        "modality_type_embeddings.weight", "vision_encoder.visual.class_embedding",
        "multi_modal_language_layers.0.crossattention.output.LayerNorm.weight", "mlm_head.bias",
        "mim_head.mask_token", "vision_encoder.visual.ln_post.bias"}) {
      float[] src = CheckpointValues.of(k, keys.get(k));
      float[] got = arr(g, k).dup('c').data().asFloat();
      assertEquals(src.length, got.length, k);
      for (int i : new int[] {0, src.length / 3, src.length - 1}) assertEquals(src[i], got[i], k);
    }
  }

  private static INDArray arr(M3aeGraph g, String name) {
    return g.sd().getVariable(name).getArr();
  }

  private static void assertTransposed(M3aeGraph g, Map<String, long[]> keys, String var, String key) {
    long[] s = keys.get(key);
    float[] src = CheckpointValues.of(key, s);
    INDArray w = arr(g, var);
    int out = (int) s[0], in = (int) s[1];
    assertEquals(in, w.size(0), var);
    assertEquals(out, w.size(1), var);
    for (int[] io : new int[][] {{0, 0}, {in - 1, out - 1}, {in / 2, out / 3}, {1, 0}}) {
      assertEquals(src[io[1] * in + io[0]], w.getFloat(io[0], io[1]), var + " " + io[0] + "," + io[1]);
    }
  }
}
