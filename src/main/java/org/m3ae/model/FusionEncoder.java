package org.m3ae.model;

import java.util.ArrayList;
import java.util.List;
import org.nd4j.autodiff.samediff.SDVariable;

/**
 * The cross-modal module (SPEC §1.3–1.4): project each stream to the fusion width and add its modality-type
 * embedding (text 0, image 1), then run the co-attention layers, where both streams read the other's
 * <em>previous</em> layer state.
 */
final class FusionEncoder {
  /** Per stream: hidden states (index 0 = projected input), self- and cross-attentions per layer. */
  record Out(
      List<SDVariable> textHidden, List<SDVariable> imageHidden,
      List<SDVariable> textSelf, List<SDVariable> textCross,
      List<SDVariable> imageSelf, List<SDVariable> imageCross) {}

  private FusionEncoder() {}

  /**
   * @param text [B, Lt, Dt] text encoder output; {@code textMask} [B, Lt] 0/1
   * @param image [B, Li, Dv] image encoder output (no padding: every image token is attended)
   */
  static Out forward(Nn nn, ModelConfig c, SDVariable text, SDVariable textMask, int lt, SDVariable image, int li) {
    SDVariable[] xy = project(nn, c, text, lt, image, li);
    return coAttend(nn, c, xy[0], textMask, lt, xy[1], li);
  }

  /**
   * The fusion inputs: each stream projected to the fusion width plus its modality-type embedding, text [B, Lt, Df]
   * and image [B, Li, Df]. Each depends on one modality only.
   */
  static SDVariable[] project(Nn nn, ModelConfig c, SDVariable text, int lt, SDVariable image, int li) {
    var f = c.fusion();
    Params p = nn.params();
    var textProj = p.linear("multi_modal_language_proj", c.text().encoder().width(), f.width());
    var visionProj = p.linear("multi_modal_vision_proj", c.vision().encoder().width(), f.width());
    SDVariable modality = p.normal("modality_type_embeddings.weight", f.modalityTypes(), f.width());

    SDVariable x = nn.linear(text, textProj, lt).add(nn.row(modality, 0, f.modalityTypes(), f.width())); //  [B, Lt, Df]
    SDVariable y = nn.linear(image, visionProj, li).add(nn.row(modality, 1, f.modalityTypes(), f.width())); // [B, Li, Df]
    return new SDVariable[] {x, y};
  }

  /** The co-attention layers over projected inputs {@code x} (text) and {@code y} (image), both [B, L, Df]. */
  static Out coAttend(Nn nn, ModelConfig c, SDVariable x, SDVariable textMask, int lt, SDVariable y, int li) {
    var f = c.fusion();
    SDVariable textKeys = nn.additiveKeyMask(textMask, lt); // [B, 1, 1, Lt]

    var out = new Out(new ArrayList<>(), new ArrayList<>(), new ArrayList<>(), new ArrayList<>(),
        new ArrayList<>(), new ArrayList<>());
    out.textHidden().add(x = nn.name(x, Names.fusionHidden(Names.TEXT, 0)));
    out.imageHidden().add(y = nn.name(y, Names.fusionHidden(Names.IMAGE_STREAM, 0)));
    for (int j = 0; j < f.layers(); j++) {
      var t = CoAttentionLayer.forward(nn, f, Names.TEXT, "multi_modal_language_layers.", j, x, lt, textKeys, y, li, null);
      var v = CoAttentionLayer.forward(nn, f, Names.IMAGE_STREAM, "multi_modal_vision_layers.", j, y, li, null, x, lt, textKeys);
      out.textSelf().add(t.selfAttn());
      out.textCross().add(t.crossAttn());
      out.imageSelf().add(v.selfAttn());
      out.imageCross().add(v.crossAttn());
      out.textHidden().add(x = nn.name(t.hidden(), Names.fusionHidden(Names.TEXT, j + 1)));
      out.imageHidden().add(y = nn.name(v.hidden(), Names.fusionHidden(Names.IMAGE_STREAM, j + 1)));
    }
    return out;
  }
}
