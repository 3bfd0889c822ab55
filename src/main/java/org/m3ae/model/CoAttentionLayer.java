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

  static Out forward(
      Nn nn, ModelConfig.Fusion c, String stream, String prefix, int j,
      SDVariable x, int len, SDVariable selfMask, SDVariable other, int otherLen, SDVariable otherMask) {
    String lp = prefix + j;
    String site = "fusion." + stream + "." + j;
    var self = BertAttention.forward(
        nn, lp + ".attention", x, len, x, len, selfMask, c.width(), c.heads(), c.lnEps(),
        c.hiddenDropout(), c.attentionDropout(), Names.fusionSelfAttn(stream, j), site + ".self", false);
    var cross = BertAttention.forward(
        nn, lp + ".crossattention", self.context(), len, other, otherLen, otherMask, c.width(), c.heads(), c.lnEps(),
        c.hiddenDropout(), c.attentionDropout(), Names.fusionCrossAttn(stream, j), site + ".cross", false);
    SDVariable h = BertAttention.feedForward(
        nn, lp, cross.context(), len, c.width(), c.mlpDim(), c.activation(), c.lnEps(), c.hiddenDropout(), site, false);
    return new Out(h, self.probs(), cross.probs());
  }
}
