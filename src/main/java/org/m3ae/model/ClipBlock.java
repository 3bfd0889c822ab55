package org.m3ae.model;

import org.nd4j.autodiff.samediff.SDVariable;

/**
 * CLIP's {@code ResidualAttentionBlock} (SPEC §1.1), pre-LN: x + MHA(ln_1(x)), then x + c_proj(act(c_fc(ln_2(x))));
 * with {@code norm: post} the same weights are used BERT-style, ln_1(x + MHA(x)) and ln_2(x + MLP(x)).
 * Used by the ViT image encoder and the MIM decoder. Weight names follow {@code <prefix>.attn.*}, {@code ln_1},
 * {@code mlp.c_fc}, {@code mlp.c_proj}, {@code ln_2}; the packed {@code in_proj} is split into q/k/v.
 */
final class ClipBlock {
  private ClipBlock() {}

  /**
   * Token rows [B·T, D] in, token rows out (see {@link Nn#rowsOf}); the post-softmax attention [B, h, T, T] is named
   * {@code attnName}.
   */
  static SDVariable forward(Nn nn, String prefix, SDVariable x, int tokens, ModelConfig.Blocks c, String attnName, String site) {
    Params p = nn.params();
    int d = c.width();
    var ln1 = p.norm(prefix + ".ln_1", d, c.lnEps());
    var q = p.linear(prefix + ".attn.q_proj", d, d);
    var k = p.linear(prefix + ".attn.k_proj", d, d);
    var v = p.linear(prefix + ".attn.v_proj", d, d);
    var out = p.linear(prefix + ".attn.out_proj", d, d);
    var ln2 = p.norm(prefix + ".ln_2", d, c.lnEps());
    var fc = p.linear(prefix + ".mlp.c_fc", d, c.mlpDim());
    var proj = p.linear(prefix + ".mlp.c_proj", c.mlpDim(), d);

    boolean pre = c.norm() == ModelConfig.NormPlacement.PRE;
    SDVariable h = pre ? nn.layerNorm(x, ln1, 2) : x; // [B·T, D]
    var att = nn.attention(
        nn.linear(h, q, 0), nn.linear(h, k, 0), nn.linear(h, v, 0), null,
        c.heads(), tokens, tokens, d, attnName, c.attentionDropout(), site + ".attn_probs");
    SDVariable a = nn.dropoutRows(nn.linear(att.context(), out, 0), c.hiddenDropout(), site + ".attn_out", tokens, d);
    x = pre ? x.add(a) : nn.layerNorm(x.add(a), ln1, 2);

    h = pre ? nn.layerNorm(x, ln2, 2) : x;
    SDVariable m = nn.activation(nn.linear(h, fc, 0), c.activation()); // [B·T, mlp]
    m = nn.dropoutRows(nn.linear(m, proj, 0), c.hiddenDropout(), site + ".mlp_out", tokens, d);
    return pre ? x.add(m) : nn.layerNorm(x.add(m), ln2, 2); // [B·T, D]
  }
}
