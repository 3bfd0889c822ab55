package org.m3ae.data.pipeline;

/** Names of the arrays in a {@link Batch}; they match the SameDiff placeholder names. See docs/data.md. */
public final class BatchKeys {
  private BatchKeys() {}

  /** float32 [B,3,H,W], CLIP-normalised (SPEC §3.4). */
  public static final String IMAGE = "image";
  /** int32 [B,L], padded with the tokenizer's pad id. */
  public static final String TEXT_IDS = "text_ids";
  /** float32 [B,L], 1 real / 0 pad. */
  public static final String TEXT_MASK = "text_mask";
  /** int32 [B,L], RoBERTa (pad+1, pad+2, ..., pad at pads) or BERT (0..L-1) position ids. */
  public static final String TEXT_POSITION_IDS = "text_position_ids";

  /** int32 [B,L]: text_ids after MLM corruption (SPEC §2.2). */
  public static final String MLM_TEXT_IDS = "mlm_text_ids";
  /** int32 [B,L]: original id at selected positions, -100 elsewhere. */
  public static final String MLM_LABELS = "mlm_labels";
  /** int32 [B,L]: MLM_LABELS with -100 replaced by 0, safe to gather with. */
  public static final String MLM_LABEL_IDS = "mlm_label_ids";
  /** float32 [B,L]: 1 at selected positions (the loss weight paired with MLM_LABEL_IDS). */
  public static final String MLM_WEIGHTS = "mlm_weights";

  /** int32 [B,Nkeep]: visible patches, ascending, Nkeep = int(N*(1-ratio)) (SPEC §2.3). */
  public static final String IMAGE_KEEP_IDS = "image_keep_ids";
  /** int32 [B,N]: MAE ids_restore over keep ++ masked. */
  public static final String IMAGE_RESTORE_IDS = "image_restore_ids";
  /** float32 [B,N]: 1 on masked patches (where the MIM loss is averaged). */
  public static final String IMAGE_MIM_MASK = "image_mim_mask";

  /** float32 [B,3,H,W]: the ITM pass's images, floor(B/2) of them swapped for another pair's (SPEC §2.4). */
  public static final String ITM_IMAGE = "itm_image";
  /** int32 [B]: 1 matched, 0 swapped. */
  public static final String ITM_LABELS = "itm_labels";

  /** float32 [B,A]: VQA soft targets, 1.0 on the answer (SPEC §2.5). */
  public static final String VQA_TARGETS = "vqa_targets";
  /** int32 [B]: answer index in the vocabulary. */
  public static final String VQA_LABELS = "vqa_labels";
  /** float32 [B]: 1 closed question, 0 open (SPEC §5 metric split). */
  public static final String ANSWER_CLOSED = "answer_closed";

  /** int32 [B]: class index (classification, SPEC §2.5 MELINDA). */
  public static final String CLS_LABELS = "cls_labels";
}
