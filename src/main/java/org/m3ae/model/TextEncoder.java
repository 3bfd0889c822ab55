package org.m3ae.model;

import java.util.ArrayList;
import java.util.List;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * RoBERTa/BERT text encoder (SPEC §1.2): word + position + token-type embeddings → LayerNorm → post-LN layers.
 * The RoBERTa pooler is not built: M3AE never uses it.
 */
final class TextEncoder {
  static final String P = "language_encoder.";

  /** Hidden states [B, Lt, Dt] (index 0 = embeddings), self-attentions [B, h, Lt, Lt], output (last hidden). */
  record Out(List<SDVariable> hidden, List<SDVariable> attn, SDVariable out) {}

  private TextEncoder() {}

  /**
   * @param ids [B, Lt] int token ids
   * @param mask [B, Lt] float, 1 for real tokens and 0 for padding
   * @param typeIds null (all type 0), or [B, Lt] int token-type ids
   */
  static Out forward(Nn nn, ModelConfig.Text c, SDVariable ids, SDVariable mask, SDVariable typeIds, int len) {
    SameDiff sd = nn.sd();
    Params p = nn.params();
    var e = c.encoder();
    int d = e.width();
    SDVariable word = p.normal(P + "embeddings.word_embeddings.weight", c.vocabSize(), d);
    SDVariable posTable = p.normal(P + "embeddings.position_embeddings.weight", c.maxPositions(), d);
    SDVariable typeTable = p.normal(P + "embeddings.token_type_embeddings.weight", c.typeVocabSize(), d);
    var ln = p.norm(P + "embeddings.LayerNorm", d, e.lnEps());

    SDVariable x = nn.wordEmbedding(word, ids, c.vocabSize(), len, d); // [B, Lt, D]
    if (c.positionIds() == ModelConfig.PositionIds.ROBERTA) {
      // RoBERTa (HF create_position_ids_from_input_ids): real = ids != padding_idx, cumsum(real) · real + padding_idx,
      // so real tokens sit at 2, 3, … and pad ids at 1. From the ids, not the mask: a caller's mask may cover pad ids
      // (a literal "<pad>" in the text, MLM's random replacement) or hide real ones, and HF does not look at it.
      SDVariable real = ids.neq(c.padTokenId()).castTo(DataType.FLOAT);
      SDVariable posIds = sd.cumsum(real, false, false, 1).mul(real).add(c.padTokenId()).castTo(DataType.INT32);
      x = x.add(nn.embedding(posTable, posIds, c.maxPositions(), len, d)); // [B, Lt, D]
    } else {
      x = x.add(nn.rows(posTable, 0, len, c.maxPositions())); // [Lt, D], broadcast over B
    }
    x = typeIds == null ? x.add(nn.row(typeTable, 0, c.typeVocabSize(), d)) : x.add(nn.embedding(typeTable, typeIds, c.typeVocabSize(), len, d));
    x = nn.layerNorm(x, ln, 3);
    x = nn.dropout(x, e.hiddenDropout(), "text.embeddings", len, d);

    var layer = BertAttention.Layer.of(e);
    SDVariable keyMask = nn.additiveKeyMask(mask, len); // [B, 1, 1, Lt]
    List<SDVariable> hidden = new ArrayList<>();
    List<SDVariable> attn = new ArrayList<>();
    hidden.add(x = nn.name(x, Names.textHidden(0)));
    SDVariable rows = nn.rowsOf(x, d); // [B·Lt, D]: the layers run on token rows; each named hidden state is a view
    for (int i = 0; i < e.layers(); i++) {
      String lp = P + "encoder.layer." + i;
      var a = BertAttention.forward(
          nn, layer, lp + ".attention", rows, len, rows, len, keyMask, Names.textAttn(i), "text." + i + ".attention");
      attn.add(a.probs());
      rows = BertAttention.feedForward(nn, layer, lp, a.context(), len, "text." + i);
      hidden.add(x = nn.nameTokens(rows, Names.textHidden(i + 1), len, d));
    }
    return new Out(hidden, attn, nn.name(x, Names.TEXT_OUT));
  }
}
