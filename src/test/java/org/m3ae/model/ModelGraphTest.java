package org.m3ae.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.m3ae.testing.MicroConfigs;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** The built graphs expose every hidden state and attention map by name, with the documented shapes and meaning. */
class ModelGraphTest {
  private static final Path TINY = Path.of("configs/models/tiny-teacher.yaml");

  @Test
  void everyHiddenStateAndAttentionMapIsNamedWithItsShape() {
    ModelConfig c = ModelConfig.load(TINY);
    M3aeGraph g = M3aeModel.build(c, BuildOptions.defaults());
    Pass p = g.pass("");
    int b = 2, li = c.vision().numTokens(), lt = c.text().maxTextLen();
    int hv = c.vision().encoder().heads(), ht = c.text().encoder().heads(), hf = c.fusion().heads();
    Map<String, long[]> want = new HashMap<>();
    for (int i = 0; i <= c.vision().encoder().layers(); i++) want.put(Names.visionHidden(i), new long[] {b, li, 128});
    for (int i = 0; i < c.vision().encoder().layers(); i++) want.put(Names.visionAttn(i), new long[] {b, hv, li, li});
    for (int i = 0; i <= c.text().encoder().layers(); i++) want.put(Names.textHidden(i), new long[] {b, lt, 128});
    for (int i = 0; i < c.text().encoder().layers(); i++) want.put(Names.textAttn(i), new long[] {b, ht, lt, lt});
    for (int j = 0; j <= c.fusion().layers(); j++) {
      want.put(Names.fusionHidden("text", j), new long[] {b, lt, 128});
      want.put(Names.fusionHidden("image", j), new long[] {b, li, 128});
    }
    for (int j = 0; j < c.fusion().layers(); j++) {
      want.put(Names.fusionSelfAttn("text", j), new long[] {b, hf, lt, lt});
      want.put(Names.fusionCrossAttn("text", j), new long[] {b, hf, lt, li});
      want.put(Names.fusionSelfAttn("image", j), new long[] {b, hf, li, li});
      want.put(Names.fusionCrossAttn("image", j), new long[] {b, hf, li, lt});
    }
    want.put(Names.VISION_OUT, new long[] {b, li, 128});
    want.put(Names.TEXT_OUT, new long[] {b, lt, 128});
    want.put(Names.POOLED_TEXT, new long[] {b, 128});
    want.put(Names.POOLED_IMAGE, new long[] {b, 128});
    want.put(Names.JOINT, new long[] {b, 256});
    Map<String, INDArray> out = g.sd().output(RandomInputs.forPass(g, p, b, 3), want.keySet().toArray(new String[0]));
    for (var e : want.entrySet()) {
      assertArrayEquals(e.getValue(), out.get(e.getKey()).shape(), e.getKey());
      assertTrue(out.get(e.getKey()).isMatrix() || out.get(e.getKey()).rank() >= 2);
    }
    // The Pass record lists the same tensors.
    assertEquals(c.vision().encoder().layers() + 1, p.visionHidden().size());
    assertEquals(Names.fusionCrossAttn("text", 1), p.fusionTextCrossAttn().get(1).name());
  }

  @Test
  void paddedTextKeysGetZeroProbabilityInTextAndImageStreams() {
    ModelConfig c = ModelConfig.load(TINY);
    M3aeGraph g = M3aeModel.build(c, BuildOptions.defaults());
    Pass p = g.pass("");
    Map<String, INDArray> in = RandomInputs.forPass(g, p, 3, 5);
    double[][] mask = in.get(Names.TEXT_MASK).toDoubleMatrix();
    Map<String, INDArray> out = g.sd().output(in, Names.textAttn(0), Names.fusionSelfAttn("text", 1),
        Names.fusionCrossAttn("image", 0), Names.fusionCrossAttn("text", 1));
    int padded = 0;
    for (String name : List.of(Names.textAttn(0), Names.fusionSelfAttn("text", 1), Names.fusionCrossAttn("image", 0))) {
      INDArray a = out.get(name); // [B, h, Lq, Lt]
      for (int bi = 0; bi < 3; bi++) {
        for (int k = 0; k < mask[bi].length; k++) {
          if (mask[bi][k] == 0) {
            padded++;
            INDArray col = a.get(NDArrayIndex.point(bi), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.point(k));
            assertEquals(0.0, col.maxNumber().doubleValue(), 1e-30, name + " batch " + bi + " key " + k);
          }
        }
      }
      INDArray sums = a.sum(3);
      assertEquals(0.0, sums.sub(1.0).amaxNumber().doubleValue(), 1e-5, name + " rows sum to 1");
    }
    assertTrue(padded > 0, "the random inputs must contain padding for this test to mean anything");
    INDArray cross = out.get(Names.fusionCrossAttn("text", 1)); // text queries over image keys: no padding
    assertTrue(cross.minNumber().doubleValue() > 0);
  }

  @Test
  void visiblePatchPassSelectsTheSamePatchEmbeddingsAsTheFullPass() {
    ModelConfig c = ModelConfig.load(TINY);
    M3aeGraph g = M3aeModel.empty(c, BuildOptions.defaults());
    Pass full = g.addPass(PassSpec.inference());
    Pass vis = g.addPass(PassSpec.inference().withName("mim").withHeads(PassSpec.Head.MIM));
    Map<String, INDArray> in = RandomInputs.forPass(g, vis, 2, 9);
    Map<String, INDArray> feed = new HashMap<>(in);
    feed.put(Names.IMAGE, in.get("mim/" + Names.IMAGE));
    feed.put(Names.TEXT_IDS, in.get("mim/" + Names.TEXT_IDS));
    feed.put(Names.TEXT_MASK, in.get("mim/" + Names.TEXT_MASK));
    Map<String, INDArray> out = g.sd().output(feed, Names.visionHidden(0), "mim/" + Names.visionHidden(0), "mim/" + Names.MIM_PRED);
    INDArray f = out.get(Names.visionHidden(0)); // [B, 1+N, D]
    INDArray v = out.get("mim/" + Names.visionHidden(0)); // [B, 1+K, D]
    int[][] keep = in.get("mim/" + Names.IMAGE_KEEP_IDS).toIntMatrix();
    assertEquals(c.mimKeep() + 1, v.size(1));
    for (int b = 0; b < 2; b++) {
      assertTrue(tok(f, b, 0).equalsWithEps(tok(v, b, 0), 1e-5), "CLS token");
      for (int k = 0; k < keep[b].length; k++) {
        INDArray want = tok(f, b, 1 + keep[b][k]);
        INDArray got = tok(v, b, 1 + k);
        assertTrue(want.equalsWithEps(got, 1e-5), "batch " + b + " visible patch " + keep[b][k]);
      }
    }
    assertArrayEquals(new long[] {2, c.vision().numPatches(), c.vision().patchDim()}, out.get("mim/" + Names.MIM_PRED).shape());
  }

  private static INDArray tok(INDArray x, int b, int t) {
    return x.get(NDArrayIndex.point(b), NDArrayIndex.point(t), NDArrayIndex.all());
  }

  @Test
  void patchEmbeddingPositionsAndLnPreMatchAConvolutionWrittenOut() {
    ModelConfig c = MicroConfigs.micro(); // 16 px, 8 px patches, width 8
    M3aeGraph g = M3aeModel.build(c, BuildOptions.defaults().withDtype(DataType.DOUBLE));
    Pass p = g.pass("");
    Map<String, INDArray> in = RandomInputs.forPass(g, p, 2, 4);
    INDArray got = g.sd().output(in, Names.visionHidden(0)).get(Names.visionHidden(0)); // [B, 5, 8]
    INDArray img = in.get(Names.IMAGE);
    INDArray w = g.sd().getVariable("vision_encoder.visual.conv1.weight").getArr(); // [C·P·P, D] rows (c, kh, kw)
    INDArray cls = g.sd().getVariable("vision_encoder.visual.class_embedding").getArr();
    INDArray pos = g.sd().getVariable("vision_encoder.visual.positional_embedding").getArr();
    int d = 8, ps = 8, grid = 2;
    for (int b = 0; b < 2; b++) {
      List<double[]> tokens = new ArrayList<>();
      double[] t0 = new double[d];
      for (int o = 0; o < d; o++) t0[o] = cls.getDouble(o) + pos.getDouble(0, o);
      tokens.add(t0);
      for (int gy = 0; gy < grid; gy++) {
        for (int gx = 0; gx < grid; gx++) {
          double[] t = new double[d];
          for (int o = 0; o < d; o++) {
            double s = 0;
            for (int ch = 0; ch < 3; ch++)
              for (int ky = 0; ky < ps; ky++)
                for (int kx = 0; kx < ps; kx++)
                  s += img.getDouble(b, ch, gy * ps + ky, gx * ps + kx) * w.getDouble((ch * ps + ky) * ps + kx, o);
            t[o] = s + pos.getDouble(1 + gy * grid + gx, o);
          }
          tokens.add(t);
        }
      }
      for (int i = 0; i < tokens.size(); i++) {
        double[] t = tokens.get(i);
        double mu = 0, var = 0;
        for (double x : t) mu += x / d;
        for (double x : t) var += (x - mu) * (x - mu) / d;
        for (int o = 0; o < d; o++) {
          assertEquals((t[o] - mu) / Math.sqrt(var + 1e-5), got.getDouble(b, i, o), 1e-9, "token " + i + " dim " + o);
        }
      }
    }
  }

  @Test
  void robertaPositionIdsCountRealTokensFromTwoAndPadsSitAtOne() {
    ModelConfig c = MicroConfigs.micro(); // pad id 1, roberta positions, text length 6
    M3aeGraph g = M3aeModel.build(c, BuildOptions.defaults().withDtype(DataType.DOUBLE));
    Map<String, INDArray> in = new HashMap<>(RandomInputs.forPass(g, g.pass(""), 1, 2));
    int[] ids = {0, 17, 23, 2, 1, 1};
    in.put(Names.TEXT_IDS, Nd4j.createFromArray(new int[][] {ids}));
    in.put(Names.TEXT_MASK, Nd4j.createFromArray(new double[][] {{1, 1, 1, 1, 0, 0}}));
    INDArray got = g.sd().output(in, Names.textHidden(0)).get(Names.textHidden(0));
    INDArray word = g.sd().getVariable("language_encoder.embeddings.word_embeddings.weight").getArr();
    INDArray pos = g.sd().getVariable("language_encoder.embeddings.position_embeddings.weight").getArr();
    INDArray type = g.sd().getVariable("language_encoder.embeddings.token_type_embeddings.weight").getArr();
    int[] positions = {2, 3, 4, 5, 1, 1};
    int d = 8;
    for (int t = 0; t < 6; t++) {
      double[] e = new double[d];
      double mu = 0, var = 0;
      for (int o = 0; o < d; o++) {
        e[o] = word.getDouble(ids[t], o) + pos.getDouble(positions[t], o) + type.getDouble(0, o);
        mu += e[o] / d;
      }
      for (double x : e) var += (x - mu) * (x - mu) / d;
      for (int o = 0; o < d; o++) assertEquals((e[o] - mu) / Math.sqrt(var + 1e-12), got.getDouble(0, t, o), 1e-9);
    }
  }

  @Test
  void dropoutMasksArePlaceholdersAndIdentityMasksReproduceInference() {
    ModelConfig c = ModelConfig.load(TINY); // text and fusion dropout 0.1
    M3aeGraph g = M3aeModel.empty(c, BuildOptions.defaults());
    Pass train = g.addPass(PassSpec.inference().withTraining(true).withName("train"));
    Pass infer = g.addPass(PassSpec.inference());
    assertTrue(g.dropout().sites().size() > 10, "text and fusion layers declare dropout sites");
    Map<String, INDArray> in = RandomInputs.forPass(g, train, 2, 8); // identity masks included
    Map<String, INDArray> feed = new HashMap<>(in);
    for (String k : List.of(Names.IMAGE, Names.TEXT_IDS, Names.TEXT_MASK)) feed.put(k, in.get("train/" + k));
    Map<String, INDArray> out = g.sd().output(feed, "train/" + Names.JOINT, Names.JOINT);
    assertTrue(out.get(Names.JOINT).equalsWithEps(out.get("train/" + Names.JOINT), 1e-5));

    Map<String, INDArray> masks = g.dropout().sample(4, DataType.FLOAT, new SplittableRandom(1));
    long zeros = 0, total = 0;
    double sum = 0;
    for (INDArray m : masks.values()) {
      zeros += m.length() - m.neq(0).castTo(DataType.INT32).sumNumber().longValue();
      total += m.length();
      sum += m.sumNumber().doubleValue();
    }
    assertEquals(0.1, zeros / (double) total, 0.01, "drop rate");
    assertEquals(1.0, sum / total, 0.02, "inverted dropout keeps the expectation");
    feed.putAll(masks);
    for (String k : List.of(Names.IMAGE, Names.TEXT_IDS, Names.TEXT_MASK)) feed.put("train/" + k, in.get("train/" + k).dup());
    // Batch 4 masks need batch 4 inputs: tile the batch of 2.
    for (String k : List.of("train/" + Names.IMAGE, "train/" + Names.TEXT_IDS, "train/" + Names.TEXT_MASK)) {
      feed.put(k, Nd4j.concat(0, feed.get(k), feed.get(k)));
    }
    INDArray dropped = g.sd().output(feed, "train/" + Names.JOINT).get("train/" + Names.JOINT);
    assertTrue(!dropped.get(NDArrayIndex.interval(0, 2)).equalsWithEps(out.get(Names.JOINT), 1e-4),
        "sampled masks change the output");
  }
}
