package org.m3ae.weights;

/**
 * The official M3AE {@code state_dict} (SPEC §4) onto the project's graph, whose variables carry
 * the checkpoint's names: every variable reads the key of the same name (or the packed {@code
 * in_proj_*} key for split q/k/v) through {@link LinearRules}.
 */
public final class M3aeKeyMap implements KeyMap {

  /** The MIM decoder's positions are a fixed 2-D sin-cos table (SPEC §2.3), a graph constant. */
  static final String FIXED_DECODER_POS = "mim_head.decoder_pos_embed";

  @Override
  public Rule rule(String target, long[] shape) {
    if (target.equals(FIXED_DECODER_POS)) {
      return new Rule(target, Transforms.IDENTITY, "fixed sin-cos constant, compared only", true);
    }
    return LinearRules.rule(target, shape, s -> s);
  }

  @Override
  public String whyUnused(String key) {
    if (key.startsWith("vision_encoder.token_embedding.")
        || key.equals("vision_encoder.positional_embedding")
        || key.startsWith("vision_encoder.ln_final.")) {
      return "CLIP text tower, built but never used by M3AE (SPEC §1.1)";
    }
    if (key.startsWith("language_encoder.pooler.")) return "RoBERTa pooler, unused (SPEC §1.2)";
    if (key.endsWith("embeddings.position_ids")) return "buffer; position ids are computed in the graph";
    return null;
  }
}
