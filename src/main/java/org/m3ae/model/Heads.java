package org.m3ae.model;

import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;

/** The small heads: tanh poolers, the MLM head and the ITM head (SPEC §1.4, §2.2, §2.4). */
final class Heads {
  private Heads() {}

  /** {@code prediction_heads.Pooler}: tanh(dense(x[:, 0])) → [B, Df]. */
  static SDVariable pooler(Nn nn, String prefix, SDVariable x, int width) {
    var dense = nn.params().linear(prefix + ".dense", width, width);
    SDVariable first = x.get(SDIndex.all(), SDIndex.point(0), SDIndex.all()); // [B, Df]
    return nn.sd().math.tanh(nn.linear(first, dense, 0));
  }

  /** {@code MLMHead}: dense → activation → LayerNorm → untied decoder + separate bias → logits [B, Lt, V]. */
  static SDVariable mlm(Nn nn, ModelConfig c, SDVariable textFeats, int len) {
    return mlmHead(nn, c, textFeats, len);
  }

  /**
   * The same head on the selected positions only: {@link Names#MLM_SELECT} [M, B·Lt] (one-hot rows, fed) picks the M
   * masked tokens' features, so the decoder and the loss see [M, V] instead of [B·Lt, V] — the loss reads no other
   * position (SPEC §2.2), and with a 50,265-word vocabulary the full logits are most of a small model's step.
   */
  static SDVariable mlmSelected(Nn nn, ModelConfig c, SDVariable textFeats) {
    SDVariable select = nn.sd().placeHolder(nn.qualify(Names.MLM_SELECT), nn.dtype(), -1, -1); // [M, B·Lt]
    SDVariable x = select.mmul(nn.sd().reshape(textFeats, -1, c.fusion().width())); //           [M, D]
    return mlmHead(nn, c, x, 0); //                                                              [M, V]
  }

  /** The MLM head on [B, len, D] features ({@code len} > 0) or on [M, D] rows ({@code len} = 0). */
  private static SDVariable mlmHead(Nn nn, ModelConfig c, SDVariable x, int len) {
    Params p = nn.params();
    int d = c.fusion().width();
    int v = c.text().vocabSize();
    var dense = p.linear("mlm_head.transform.dense", d, d);
    var ln = p.norm("mlm_head.transform.LayerNorm", d, c.mlm().lnEps());
    var decoder = p.linearNoBias("mlm_head.decoder", d, v);
    SDVariable bias = p.zeros("mlm_head.bias", v);
    SDVariable h = nn.layerNorm(nn.activation(nn.linear(x, dense, len), c.mlm().activation()), ln, len > 0 ? 3 : 2);
    return nn.linear(h, decoder, len).add(bias);
  }

  /** {@code ITMHead}: Linear(2·Df → classes) on the joint feature. */
  static SDVariable itm(Nn nn, ModelConfig c, SDVariable joint) {
    var fc = nn.params().linear("itm_head.fc", c.fusion().jointDim(), c.itm().classes());
    return nn.linear(joint, fc, 0);
  }
}
