package org.m3ae.model;

/**
 * Stable names of the graph's inputs and of every tensor a caller may request. In a graph with several forward
 * passes each name is qualified by the pass, e.g. {@code "mim/fusion.image.hidden.3"}; the default pass is
 * unqualified. Shapes: B batch, Li image tokens (CLS + patches, or CLS + visible patches), Lt text tokens, h heads.
 */
public final class Names {
  /**
   * The name of tensor {@code name} in pass {@code pass}: {@code "mlm/text.hidden.3"}, or the plain name in the unnamed
   * (inference) pass. The one place a pass qualifies its names: graphs, feeds and callers all go through it.
   */
  public static String qualified(String pass, String name) {
    return pass.isEmpty() ? name : pass + "/" + name;
  }

  private Names() {}

  // ---- inputs
  /** float [B, C, H, W], CLIP-normalised. */
  public static final String IMAGE = "image";
  /** int32 [B, Lt] token ids, padded. */
  public static final String TEXT_IDS = "text_ids";
  /** float [B, Lt]: 1 real token, 0 padding. */
  public static final String TEXT_MASK = "text_mask";
  /** int32 [B, Lt] token-type ids (BERT-style configs with type_vocab_size > 1 only). */
  public static final String TEXT_TYPE_IDS = "text_type_ids";
  /** int32 [B, K]: indices (0..N-1) of the visible patches, in MIM passes only. */
  public static final String IMAGE_KEEP_IDS = "image_keep_ids";

  // ---- encoders
  /** [B, Li, Dv]: index 0 = after ln_pre, i = after ViT block i (1-based). */
  public static String visionHidden(int i) {
    return "vision.hidden." + i;
  }

  /** [B, h, Li, Li]: post-softmax self-attention of ViT block i (0-based). */
  public static String visionAttn(int i) {
    return "vision.attn." + i;
  }

  /**
   * [B, h, Lq, Lk]: the pre-softmax scores Q·Kᵀ/√d_h of the attention named {@code attnName} (any of the attention
   * names above), before the additive key mask: {@code vision.attn.3} → {@code vision.attn_scores.3}. EfficientVLM
   * distils these rather than the probabilities (issue 18 §2, docs/training.md "Distillation terms"). A name without
   * a layer index (a block built on its own, as the block tests do) gets the suffix: {@code attn} → {@code attn_scores}.
   */
  public static String scores(String attnName) {
    int dot = attnName.lastIndexOf('.');
    if (dot < 0) return attnName + "_scores";
    return attnName.substring(0, dot) + "_scores" + attnName.substring(dot);
  }

  /** [B, Li, Dv]: after ln_post. */
  public static final String VISION_OUT = "vision.out";

  /** [B, Lt, Dt]: index 0 = embeddings after LayerNorm, i = after text layer i (1-based). */
  public static String textHidden(int i) {
    return "text.hidden." + i;
  }

  /** [B, h, Lt, Lt]: post-softmax self-attention of text layer i (0-based). */
  public static String textAttn(int i) {
    return "text.attn." + i;
  }

  /** [B, Lt, Dt]: the text encoder's last hidden state. */
  public static final String TEXT_OUT = "text.out";

  // ---- fusion; stream is "text" or "image"
  public static final String TEXT = "text";
  public static final String IMAGE_STREAM = "image";

  /** [B, L, Df]: index 0 = projected + modality embedding, j = after co-attention layer j (1-based). */
  public static String fusionHidden(String stream, int j) {
    return "fusion." + stream + ".hidden." + j;
  }

  /** [B, h, L, L]: self-attention of co-attention layer j (0-based) of the stream. */
  public static String fusionSelfAttn(String stream, int j) {
    return "fusion." + stream + ".self_attn." + j;
  }

  /** [B, h, L, Lother]: cross-attention of co-attention layer j; text → image is [B, h, Lt, Li]. */
  public static String fusionCrossAttn(String stream, int j) {
    return "fusion." + stream + ".cross_attn." + j;
  }

  /** [B, Df] tanh-pooled first token of each stream, and [B, 2·Df] their concatenation (the joint feature). */
  public static final String POOLED_TEXT = "pooled.text";
  public static final String POOLED_IMAGE = "pooled.image";
  public static final String JOINT = "joint";

  // ---- heads
  /** [B, Lt, V]; [M, V] in training passes with {@code sparseText} (see {@link #MLM_SELECT}). */
  public static final String MLM_LOGITS = "mlm.logits";
  /** Placeholder of training passes with {@code sparseText}: one-hot [M, B·Lt] picking the M masked tokens. */
  public static final String MLM_SELECT = "mlm_select";
  /** [B, N, P·P·C]: reconstructed patches in (row, col, channel) order, for every patch. */
  public static final String MIM_PRED = "mim.pred";
  /** [B, classes]. */
  public static final String ITM_LOGITS = "itm.logits";
}
