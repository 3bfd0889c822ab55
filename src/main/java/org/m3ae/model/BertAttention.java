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

  /**
   * Token rows in and out: {@code xq} [B·Lq, D], {@code xkv} [B·Lk, D] (the same variable for self-attention); returns
   * the output rows [B·Lq, D] and the probabilities [B, h, Lq, Lk] (see {@link Nn#rowsOf}).
   */
  static Nn.Attended forward(
      Nn nn, String prefix, SDVariable xq, int lq, SDVariable xkv, int lk, SDVariable keyMask,
      int width, int heads, double lnEps, double hiddenDropout, double attnDropout, String attnName, String site,
      boolean preNorm) {
    Params p = nn.params();
    var q = p.linear(prefix + ".self.query", width, width);
    var k = p.linear(prefix + ".self.key", width, width);
    var v = p.linear(prefix + ".self.value", width, width);
    var dense = p.linear(prefix + ".output.dense", width, width);
    var ln = p.norm(prefix + ".output.LayerNorm", width, lnEps);

    SDVariable hq = preNorm ? nn.layerNorm(xq, ln, 2) : xq; // [B·Lq, D]
    SDVariable hkv = preNorm && xkv == xq ? hq : xkv;
    var att = nn.attention(
        nn.linear(hq, q, 0), nn.linear(hkv, k, 0), nn.linear(hkv, v, 0), keyMask,
        heads, lq, lk, width, attnName, attnDropout, site + ".probs");
    SDVariable o = nn.dropoutRows(nn.linear(att.context(), dense, 0), hiddenDropout, site + ".out", lq, width);
    return new Nn.Attended(preNorm ? xq.add(o) : nn.layerNorm(xq.add(o), ln, 2), att.probs()); // [B·Lq, D]
  }

  /** HF {@code BertIntermediate} + {@code BertOutput}: LayerNorm(x + dense(act(intermediate(x)))), on token rows [B·T, D]. */
  static SDVariable feedForward(
      Nn nn, String prefix, SDVariable x, int tokens, int width, int mlp, ModelConfig.Activation act,
      double lnEps, double hiddenDropout, String site, boolean preNorm) {
    Params p = nn.params();
    var inter = p.linear(prefix + ".intermediate.dense", width, mlp);
    var out = p.linear(prefix + ".output.dense", mlp, width);
    var ln = p.norm(prefix + ".output.LayerNorm", width, lnEps);
    SDVariable h = nn.activation(nn.linear(preNorm ? nn.layerNorm(x, ln, 2) : x, inter, 0), act); // [B·T, mlp]
    h = nn.dropoutRows(nn.linear(h, out, 0), hiddenDropout, site + ".ffn_out", tokens, width);
    return preNorm ? x.add(h) : nn.layerNorm(x.add(h), ln, 2); // [B·T, D]
  }
}
