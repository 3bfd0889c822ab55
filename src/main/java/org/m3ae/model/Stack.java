package org.m3ae.model;

import java.util.List;
import org.nd4j.autodiff.samediff.SDVariable;

/**
 * The model's layered stacks: a run of numbered layers that weight import maps one-to-one (student initialisation,
 * SPEC §6.2) and, for the encoder's stacks, that distillation supervises layer by layer (paper §3.2). Each knows its
 * graph-name prefix up to the layer index ({@code multi_modal_language_layers.}{@code 3}{@code .…}), its printed label
 * ({@code fusion.text}), its size in a {@link ModelConfig} and, for the encoder's stacks, the {@link Names} of its
 * tensors in a {@link Pass}.
 */
public enum Stack {
  VISION("vision_encoder.visual.transformer.resblocks.", "vision"),
  TEXT("language_encoder.encoder.layer.", "text"),
  FUSION_TEXT("multi_modal_language_layers.", "fusion.text"),
  FUSION_IMAGE("multi_modal_vision_layers.", "fusion.image"),
  MIM_DECODER("mim_head.decoder.resblocks.", "mim.decoder");

  /**
   * The encoder's stacks, whose hidden states and attention maps carry {@link Names}: all but the MIM head's decoder.
   * These are the stacks distillation supervises.
   */
  public static final List<Stack> ENCODERS = List.of(VISION, TEXT, FUSION_TEXT, FUSION_IMAGE);

  private final String prefix;
  private final String label;

  Stack(String prefix, String label) {
    this.prefix = prefix;
    this.label = label;
  }

  /** Graph variable names of layer i start with {@code prefix() + i + "."}. */
  public String prefix() {
    return prefix;
  }

  /** How the stack is printed and named in derived variables ({@code distill.fusion.text.proj}). */
  public String label() {
    return label;
  }

  public int layers(ModelConfig c) {
    return switch (this) {
      case VISION -> c.vision().encoder().layers();
      case TEXT -> c.text().encoder().layers();
      case FUSION_TEXT, FUSION_IMAGE -> c.fusion().layers();
      case MIM_DECODER -> c.mim().decoder().layers();
    };
  }

  public int width(ModelConfig c) {
    return switch (this) {
      case VISION -> c.vision().encoder().width();
      case TEXT -> c.text().encoder().width();
      case FUSION_TEXT, FUSION_IMAGE -> c.fusion().width();
      case MIM_DECODER -> c.mim().decoder().width();
    };
  }

  public int heads(ModelConfig c) {
    return switch (this) {
      case VISION -> c.vision().encoder().heads();
      case TEXT -> c.text().encoder().heads();
      case FUSION_TEXT, FUSION_IMAGE -> c.fusion().heads();
      case MIM_DECODER -> c.mim().decoder().heads();
    };
  }

  // ---- the tensors of an encoder stack (ENCODERS only: the MIM decoder's carry no Names)

  /** {@link Names} of hidden state i: index 0 = the stack's input, i = after layer i (1-based). */
  public String hiddenName(int i) {
    return switch (this) {
      case VISION -> Names.visionHidden(i);
      case TEXT -> Names.textHidden(i);
      case FUSION_TEXT -> Names.fusionHidden(Names.TEXT, i);
      case FUSION_IMAGE -> Names.fusionHidden(Names.IMAGE_STREAM, i);
      case MIM_DECODER -> throw unnamed();
    };
  }

  /** {@link Names} of the attention maps of layer j (0-based): self-attention, then cross-attention in fusion. */
  public List<String> attentionNames(int j) {
    return switch (this) {
      case VISION -> List.of(Names.visionAttn(j));
      case TEXT -> List.of(Names.textAttn(j));
      case FUSION_TEXT -> List.of(Names.fusionSelfAttn(Names.TEXT, j), Names.fusionCrossAttn(Names.TEXT, j));
      case FUSION_IMAGE -> List.of(Names.fusionSelfAttn(Names.IMAGE_STREAM, j), Names.fusionCrossAttn(Names.IMAGE_STREAM, j));
      case MIM_DECODER -> throw unnamed();
    };
  }

  /** The pass's hidden states of this stack, indexed as {@link #hiddenName}. */
  public List<SDVariable> hidden(Pass p) {
    return switch (this) {
      case VISION -> p.visionHidden();
      case TEXT -> p.textHidden();
      case FUSION_TEXT -> p.fusionTextHidden();
      case FUSION_IMAGE -> p.fusionImageHidden();
      case MIM_DECODER -> throw unnamed();
    };
  }

  /** Sequence length of this stack's hidden states in the pass: the text's or the image's tokens. */
  public int tokens(Pass p) {
    return switch (this) {
      case TEXT, FUSION_TEXT -> p.textLen();
      case VISION, FUSION_IMAGE -> p.imageTokens();
      case MIM_DECODER -> throw unnamed();
    };
  }

  private IllegalStateException unnamed() {
    return new IllegalStateException(label + ": not an encoder stack, its tensors carry no names");
  }
}
