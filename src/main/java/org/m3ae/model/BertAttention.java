package org.m3ae.model;

import org.nd4j.autodiff.samediff.SDVariable;

/**
 * HF {@code BertAttention} (post-LN): LayerNorm(query_states + dense(MHA(query_states, key_value_states))). With
 * {@code preNorm} the same LayerNorm is applied to the query stream first and the residual is left un-normalised.
 * Self-attention when both inputs are the same stream; cross-attention in the co-attention layers (SPEC §1.4).
 * Names: {@code <prefix>.self.{query,key,value}}, {@code <prefix>.output.dense}, {@code <prefix>.output.LayerNorm}.
 */
final class BertAttention {
  private BertAttention() {}

  /** A BERT layer's sizes and settings, from a text encoder's or a fusion stream's config. */
  record Layer(int width, int heads, int mlp, ModelConfig.Activation act, double lnEps, double hiddenDropout,
      double attnDropout, boolean preNorm) {
    static Layer of(ModelConfig.Blocks e) {
      return new Layer(e.width(), e.heads(), e.mlpDim(), e.activation(), e.lnEps(), e.hiddenDropout(), e.attentionDropout(),
          e.norm() == ModelConfig.NormPlacement.PRE);
    }

    /** The co-attention layers are post-LN BertLayers (SPEC §1.4). */
    static Layer of(ModelConfig.Fusion c) {
      return new Layer(c.width(), c.heads(), c.mlpDim(), c.activation(), c.lnEps(), c.hiddenDropout(), c.attentionDropout(),
          false);
    }
  }

  /**
   * Token rows in and out: {@code xq} [B·Lq, D], {@code xkv} [B·Lk, D] (the same variable for self-attention); returns
   * the output rows [B·Lq, D] and the probabilities [B, h, Lq, Lk] (see {@link Nn#rowsOf}).
   */
  static Nn.Attended forward(
      Nn nn, Layer l, String prefix, SDVariable xq, int lq, SDVariable xkv, int lk, SDVariable keyMask, String attnName,
      String site) {
    int width = l.width();
    boolean preNorm = l.preNorm();
    Params p = nn.params();
    var q = p.linear(prefix + ".self.query", width, width);
    var k = p.linear(prefix + ".self.key", width, width);
    var v = p.linear(prefix + ".self.value", width, width);
    var dense = p.linear(prefix + ".output.dense", width, width);
    var ln = p.norm(prefix + ".output.LayerNorm", width, l.lnEps());

    SDVariable hq = preNorm ? nn.layerNorm(xq, ln, 2) : xq; // [B·Lq, D]
    SDVariable hkv = preNorm && xkv == xq ? hq : xkv;
    var att = nn.attention(
        nn.linear(hq, q, 0), nn.linear(hkv, k, 0), nn.linear(hkv, v, 0), keyMask,
        l.heads(), lq, lk, width, attnName, l.attnDropout(), site + ".probs");
    SDVariable o = nn.dropoutRows(nn.linear(att.context(), dense, 0), l.hiddenDropout(), site + ".out", lq, width);
    return new Nn.Attended(preNorm ? xq.add(o) : nn.layerNorm(xq.add(o), ln, 2), att.probs()); // [B·Lq, D]
  }

  /** HF {@code BertIntermediate} + {@code BertOutput}: LayerNorm(x + dense(act(intermediate(x)))), on token rows [B·T, D]. */
  static SDVariable feedForward(Nn nn, Layer l, String prefix, SDVariable x, int tokens, String site) {
    int width = l.width();
    Params p = nn.params();
    var inter = p.linear(prefix + ".intermediate.dense", width, l.mlp());
    var out = p.linear(prefix + ".output.dense", l.mlp(), width);
    var ln = p.norm(prefix + ".output.LayerNorm", width, l.lnEps());
    SDVariable h = nn.activation(nn.linear(l.preNorm() ? nn.layerNorm(x, ln, 2) : x, inter, 0), l.act()); // [B·T, mlp]
    h = nn.dropoutRows(nn.linear(h, out, 0), l.hiddenDropout(), site + ".ffn_out", tokens, width);
    return l.preNorm() ? x.add(h) : nn.layerNorm(x.add(h), ln, 2); // [B·T, D]
  }
}
