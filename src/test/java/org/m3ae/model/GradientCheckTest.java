package org.m3ae.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.m3ae.model.PassSpec.Head;
import org.m3ae.testing.GradCheck;
import org.m3ae.testing.MicroConfigs;
import org.m3ae.train.Losses;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Finite-difference gradient checks, in double precision, of every block the graphs are made of. */
class GradientCheckTest {
  private static final DataType D = DataType.DOUBLE;

  private static Nn nn(SameDiff sd) {
    return new Nn(new Params(sd, D, 0.3, 11, true), "", false, false, new DropoutSites());
  }

  /** Σ R ⊙ y with a fixed random R, so every output element gets its own upstream gradient. */
  private static SDVariable probe(SameDiff sd, SDVariable y, long seed, long... shape) {
    Nd4j.getRandom().setSeed(seed);
    return y.mul(sd.constant(Nd4j.randn(D, shape))).sum();
  }

  private static INDArray randn(long seed, long... shape) {
    Nd4j.getRandom().setSeed(seed);
    return Nd4j.randn(D, shape);
  }

  private static void report(String what, GradCheck.Result r) {
    System.out.printf("%s: %d elements checked, worst relative error %.2e%n", what, r.checked(), r.worstRel());
  }

  @Test
  void clipPreLnBlock() {
    SameDiff sd = SameDiff.create();
    var cfg = MicroConfigs.clip(8, 1, 2);
    SDVariable x = sd.placeHolder("x", D, -1, 5, 8);
    SDVariable y = ClipBlock.forward(nn(sd), "blk", sd.reshape(x, -1, 8), 5, cfg, "attn", "s"); // token rows
    probe(sd, sd.reshape(y, -1, 5, 8), 1, 2, 5, 8).rename("loss");
    report("CLIP pre-LN block", GradCheck.check(sd, Map.of("x", randn(2, 2, 5, 8)), "loss", 3, 3));
  }

  @Test
  void bertPostLnLayerWithPadding() {
    SameDiff sd = SameDiff.create();
    Nn nn = nn(sd);
    SDVariable x = sd.placeHolder("x", D, -1, 5, 8);
    SDVariable mask = sd.placeHolder("mask", D, -1, 5);
    SDVariable rows = sd.reshape(x, -1, 8); // token rows [B·T, D]
    var layer = new BertAttention.Layer(8, 2, 16, ModelConfig.Activation.GELU, 1e-12, 0, 0, false);
    var a = BertAttention.forward(nn, layer, "layer.attention", rows, 5, rows, 5, nn.additiveKeyMask(mask, 5), "attn", "s");
    SDVariable y = BertAttention.feedForward(nn, layer, "layer", a.context(), 5, "s");
    probe(sd, sd.reshape(y, -1, 5, 8), 4, 2, 5, 8).rename("loss");
    var feed = Map.of("x", randn(5, 2, 5, 8), "mask", Nd4j.createFromArray(new double[][] {{1, 1, 1, 1, 1}, {1, 1, 1, 0, 0}}));
    report("BERT post-LN layer", GradCheck.check(sd, feed, "loss", 3, 6));
  }

  @Test
  void coAttentionLayerBothStreamsAndLossOnAttentionProbabilities() {
    SameDiff sd = SameDiff.create();
    Nn nn = nn(sd);
    var f = new ModelConfig.Fusion(8, 1, 2, 16, ModelConfig.Activation.GELU, 1e-12, 0, 0, 2);
    SDVariable x = sd.placeHolder("x", D, -1, 4, 8); // text stream
    SDVariable y = sd.placeHolder("y", D, -1, 3, 8); // image stream
    SDVariable mask = sd.placeHolder("mask", D, -1, 4);
    SDVariable keys = nn.additiveKeyMask(mask, 4);
    var t = CoAttentionLayer.forward(nn, f, "text", "multi_modal_language_layers.", 0, x, 4, keys, y, 3, null);
    var v = CoAttentionLayer.forward(nn, f, "image", "multi_modal_vision_layers.", 0, y, 3, null, x, 4, keys);
    // Hidden outputs of both streams, plus attention-KD style MSE on the post-softmax maps themselves.
    SDVariable loss = probe(sd, t.hidden(), 7, 2, 4, 8).add(probe(sd, v.hidden(), 8, 2, 3, 8))
        .add(Losses.attentionKd(sd, t.crossAttn(), sd.constant(randn(9, 2, 2, 4, 3).mul(0.1).add(0.3))).mul(50))
        .add(Losses.attentionKd(sd, v.selfAttn(), sd.constant(randn(10, 2, 2, 3, 3).mul(0.1).add(0.3))).mul(50));
    loss.rename("loss");
    var feed = Map.of("x", randn(11, 2, 4, 8), "y", randn(12, 2, 3, 8),
        "mask", Nd4j.createFromArray(new double[][] {{1, 1, 1, 1}, {1, 1, 0, 0}}));
    report("co-attention layer", GradCheck.check(sd, feed, "loss", 2, 13));
  }

  @Test
  void lossOnAttentionProbabilitiesAloneReachesQueryAndKeyWeights() {
    SameDiff sd = SameDiff.create();
    Nn nn = nn(sd);
    SDVariable x = sd.placeHolder("x", D, -1, 5, 8);
    SDVariable rows = sd.reshape(x, -1, 8); // token rows [B·T, D]
    var a = BertAttention.forward(nn, new BertAttention.Layer(8, 2, 16, ModelConfig.Activation.GELU, 1e-12, 0, 0, false), "l",
        rows, 5, rows, 5, null, "attn", "s");
    Losses.attentionKd(sd, a.probs(), sd.constant(randn(3, 2, 2, 5, 5).mul(0.05).add(0.2))).mul(100).rename("loss");
    sd.setLossVariables("loss");
    Map<String, INDArray> g = sd.calculateGradients(Map.of("x", randn(4, 2, 5, 8)), "l.self.query.weight", "l.self.key.weight");
    assertTrue(g.get("l.self.query.weight").norm2Number().doubleValue() > 1e-6, "KD on probabilities must reach W_q");
    // Only the query and key projections shape the probabilities (the key bias adds a per-query constant that
    // softmax removes, so its exact gradient is 0).
    var r = GradCheck.check(sd, Map.of("x", randn(4, 2, 5, 8)), "loss",
        java.util.List.of("l.self.query.weight", "l.self.query.bias", "l.self.key.weight"), 8, 5, 1e-6, 1e-5, 1e-9);
    report("attention-probability loss", r);
  }

  @Test
  void mimDecoderWithMaskTokensAndSinCosPositions() {
    ModelConfig c = MicroConfigs.micro();
    SameDiff sd = SameDiff.create();
    Nn nn = nn(sd);
    int keep = c.mimKeep(); // 2 of 4 patches
    SDVariable feats = sd.placeHolder("feats", D, -1, keep + 1, 8);
    SDVariable keepIds = sd.placeHolder("keep", DataType.INT32, -1, keep);
    SDVariable image = sd.placeHolder("image", D, -1, 3, 16, 16);
    SDVariable masked = sd.placeHolder("masked", D, -1, 4);
    SDVariable pred = MimHead.forward(nn, c, feats, keepIds, keep);
    SDVariable target = Losses.mimTarget(sd, image, 3, 2, 8, true);
    Losses.mimLoss(sd, pred, target, masked).rename("loss");
    var feed = Map.of("feats", randn(1, 2, keep + 1, 8), "keep", Nd4j.createFromArray(new int[][] {{0, 2}, {1, 3}}),
        "image", randn(2, 2, 3, 16, 16), "masked", Nd4j.createFromArray(new double[][] {{0, 1, 0, 1}, {1, 0, 1, 0}}));
    report("MIM decoder + loss", GradCheck.check(sd, feed, "loss", 3, 17));
  }

  @Test
  void wholeModelWithAllThreePreTrainingObjectives() {
    ModelConfig c = MicroConfigs.micro();
    M3aeGraph g = M3aeModel.empty(c, BuildOptions.defaults().withDtype(D));
    Pass mlm = g.addPass(PassSpec.inference().withTraining(true).withName("mlm").withHeads(Head.MLM));
    Pass mim = g.addPass(PassSpec.inference().withTraining(true).withName("mim").withHeads(Head.MIM));
    Pass itm = g.addPass(PassSpec.inference().withTraining(true).withName("itm").withHeads(Head.ITM));
    SameDiff sd = g.sd();
    SDVariable mlmLabels = sd.placeHolder("mlm_labels", DataType.INT32, -1, 6);
    SDVariable mlmWeights = sd.placeHolder("mlm_weights", D, -1, 6);
    SDVariable itmLabels = sd.placeHolder("itm_labels", DataType.INT32, -1);
    SDVariable masked = sd.placeHolder("mim_masked", D, -1, 4);
    SDVariable lMlm = Losses.crossEntropy(sd, mlm.mlmLogits(), mlmLabels, mlmWeights, 40, 3);
    SDVariable target = Losses.mimTarget(sd, sd.getVariable(mim.name(Names.IMAGE)), 3, 2, 8, true);
    SDVariable lMim = Losses.mimLoss(sd, mim.mimPred(), target, masked);
    SDVariable lItm = Losses.crossEntropy(sd, itm.itmLogits(), itmLabels, sd.onesLike(itmLabels).castTo(D), 2, 2);
    lMlm.add(lMim).add(lItm).rename("loss");

    Map<String, INDArray> feed = new HashMap<>();
    feed.putAll(RandomInputs.forPass(g, mlm, 2, 1));
    feed.putAll(RandomInputs.forPass(g, mim, 2, 2));
    feed.putAll(RandomInputs.forPass(g, itm, 2, 3));
    feed.put("mlm_labels", Nd4j.createFromArray(new int[][] {{0, 5, 0, 9, 0, 0}, {3, 0, 0, 0, 0, 0}}));
    feed.put("mlm_weights", Nd4j.createFromArray(new double[][] {{0, 1, 0, 1, 0, 0}, {1, 0, 0, 0, 0, 0}}));
    feed.put("itm_labels", Nd4j.createFromArray(1, 0));
    int[][] keep = feed.get("mim/" + Names.IMAGE_KEEP_IDS).toIntMatrix();
    double[][] m = new double[2][4];
    for (int b = 0; b < 2; b++) {
      java.util.Arrays.fill(m[b], 1);
      for (int k : keep[b]) m[b][k] = 0;
    }
    feed.put("mim_masked", Nd4j.createFromArray(m));
    report("whole model (MLM + MIM + ITM)", GradCheck.check(sd, feed, "loss", 1, 19, 1e-6, 1e-4, 1e-9));
  }
}
