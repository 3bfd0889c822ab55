package org.m3ae.model;

import org.nd4j.autodiff.samediff.SDVariable;

/**
 * One stream of M3AE's co-attention layer, HF {@code BertCrossLayer} (SPEC §1.4), post-LN:
 * self-attention on its own stream → cross-attention with queries from that result and keys/values from the other
 * stream's layer input → feed-forward. Names: {@code multi_modal_<stream>_layers.<j>.{attention,crossattention,
 * intermediate,output}.*}.
 */
final class CoAttentionLayer {
  /** Output [B, L, D], self-attention [B, h, L, L] and cross-attention [B, h, L, Lother] probabilities. */
  record Out(SDVariable hidden, SDVariable selfAttn, SDVariable crossAttn) {}

  private CoAttentionLayer() {}

  /** {@code x} [B, L, D] and {@code other} [B, Lother, D] in; the output comes back [B, L, D] (unnamed). */
  static Out forward(
      Nn nn, ModelConfig.Fusion c, String stream, String prefix, int j,
      SDVariable x, int len, SDVariable selfMask, SDVariable other, int otherLen, SDVariable otherMask) {
    String lp = prefix + j;
    String site = "fusion." + stream + "." + j;
    int d = c.width();
    SDVariable rows = nn.rowsOf(x, d); //             [B·L, D]
    var layer = BertAttention.Layer.of(c);
    var self = BertAttention.forward(
        nn, layer, lp + ".attention", rows, len, rows, len, selfMask, Names.fusionSelfAttn(stream, j), site + ".self");
    var cross = BertAttention.forward(nn, layer, lp + ".crossattention", self.context(), len, nn.rowsOf(other, d), otherLen,
        otherMask, Names.fusionCrossAttn(stream, j), site + ".cross");
    SDVariable h = BertAttention.feedForward(nn, layer, lp, cross.context(), len, site);
    return new Out(nn.sd().reshape(h, -1, len, d), self.probs(), cross.probs()); // [B, L, D]
  }
}
