package org.m3ae.model;

import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.VariableType;

/**
 * Parameter counts of a built graph, grouped by module from the variable names, plus the M3AE-Distill paper's own
 * accounting (Table 1; SPEC §0): image encoder at 384 px including the 25,337,344 CLIP text-tower tensors that sit
 * unused in the M3AE checkpoint, text encoder including RoBERTa's 768×768 pooler, fusion per stream.
 */
public record ParameterCount(
    long vision, long text, long fusion, long fusionText, long fusionVision, long projections, long poolers,
    long mlm, long mim, long mimFixed, long itm, long other) {

  /** CLIP text tower kept in the checkpoint but never used: token_embedding 49408×512, positions 77×512, ln_final. */
  public static final long CLIP_TEXT_TOWER = 49408L * 512 + 77L * 512 + 2L * 512;

  /** Resolution at which the paper counts the image encoder (its fine-tuning size). */
  public static final int PAPER_IMAGE_SIZE = 384;

  public static ParameterCount of(M3aeGraph g) {
    long vision = 0, text = 0, ft = 0, fv = 0, proj = 0, pool = 0, mlm = 0, mim = 0, mimFixed = 0, itm = 0, other = 0;
    for (SDVariable v : g.sd().variables()) {
      boolean trainable = v.getVariableType() == VariableType.VARIABLE;
      boolean constant = v.getVariableType() == VariableType.CONSTANT;
      if (!trainable && !constant) continue;
      String n = v.name();
      long size = 1;
      for (long d : v.getShape()) size *= d;
      if (constant) {
        if (n.startsWith("mim_head.")) mimFixed += size;
        continue;
      }
      if (n.startsWith("vision_encoder.")) vision += size;
      else if (n.startsWith("language_encoder.")) text += size;
      else if (n.startsWith("multi_modal_language_layers.")) ft += size;
      else if (n.startsWith("multi_modal_vision_layers.")) fv += size;
      else if (n.startsWith("multi_modal_language_proj.") || n.startsWith("multi_modal_vision_proj.")
          || n.startsWith("modality_type_embeddings.")) proj += size;
      else if (n.startsWith("multi_modal_language_pooler.") || n.startsWith("multi_modal_vision_pooler.")) pool += size;
      else if (n.startsWith("mlm_head.")) mlm += size;
      else if (n.startsWith("mim_head.")) mim += size;
      else if (n.startsWith("itm_head.")) itm += size;
      else other += size;
    }
    return new ParameterCount(vision, text, ft + fv, ft, fv, proj, pool, mlm, mim, mimFixed, itm, other);
  }

  /** Backbone + heads (trainable only). */
  public long total() {
    return vision + text + fusion + projections + poolers + mlm + mim + itm + other;
  }

  public long backbone() {
    return vision + text + fusion + projections + poolers;
  }

  /** The paper's Table 1 columns for this config. */
  public Map<String, Long> paperTable1(ModelConfig c) {
    var v = c.vision();
    long posNow = (long) v.numTokens() * v.encoder().width();
    int g = PAPER_IMAGE_SIZE / v.patchSize();
    long posPaper = (long) (g * g + 1) * v.encoder().width();
    long image = vision - posNow + posPaper + CLIP_TEXT_TOWER;
    long dt = c.text().encoder().width();
    long textWithPooler = text + dt * dt + dt;
    Map<String, Long> m = new LinkedHashMap<>();
    m.put("image", image);
    m.put("text", textWithPooler);
    m.put("fusion_text", fusionText);
    m.put("fusion_vision", fusionVision);
    m.put("total", image + textWithPooler + fusionText + fusionVision);
    return m;
  }
}
