package org.m3ae.model;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.nio.file.Path;

/**
 * Everything that shapes an M3AE-family graph. Teacher and students differ only in these numbers (paper Table 1),
 * so one builder serves all of them. Loaded from {@code configs/models/*.yaml} by {@link ModelConfigLoader}.
 */
public record ModelConfig(
    @JsonProperty(required = true) String name,
    @JsonProperty(required = true) Vision vision,
    @JsonProperty(required = true) Text text,
    @JsonProperty(required = true) Fusion fusion,
    @JsonProperty(required = true) Mim mim,
    @JsonProperty(required = true) Mlm mlm,
    @JsonProperty(required = true) Itm itm,
    @JsonProperty(required = true) Init init) {

  /** Feed-forward non-linearity. CLIP uses QuickGELU, BERT/RoBERTa exact erf GELU (SPEC §11.1). */
  public enum Activation {
    @JsonProperty("quick_gelu") QUICK_GELU,
    @JsonProperty("gelu") GELU,
    @JsonProperty("relu") RELU
  }

  /** LayerNorm placement: CLIP-style pre-LN residual blocks or BERT-style post-LN layers (SPEC §11.3). */
  public enum NormPlacement {
    @JsonProperty("pre") PRE,
    @JsonProperty("post") POST
  }

  /** How text position ids are formed: RoBERTa counts real tokens from pad_token_id+1, BERT from 0 (SPEC §1.2). */
  public enum PositionIds {
    @JsonProperty("roberta") ROBERTA,
    @JsonProperty("absolute") ABSOLUTE
  }

  /** Width, depth and norm/activation of one stack of Transformer blocks. */
  public record Blocks(
      @JsonProperty(required = true) int width,
      @JsonProperty(required = true) int layers,
      @JsonProperty(required = true) int heads,
      @JsonProperty(value = "mlp_dim", required = true) int mlpDim,
      @JsonProperty(required = true) Activation activation,
      @JsonProperty(required = true) NormPlacement norm,
      @JsonProperty(value = "ln_eps", required = true) double lnEps,
      @JsonProperty("hidden_dropout") double hiddenDropout,
      @JsonProperty("attention_dropout") double attentionDropout) {
    public int headDim() {
      return width / heads;
    }
  }

  /** CLIP ViT image encoder (SPEC §1.1): patch embedding, CLS, positions, ln_pre, blocks, ln_post on all tokens. */
  public record Vision(
      @JsonProperty(value = "image_size", required = true) int imageSize,
      @JsonProperty(value = "patch_size", required = true) int patchSize,
      @JsonProperty(required = true) int channels,
      @JsonProperty(required = true) Blocks encoder) {
    public int gridSize() {
      return imageSize / patchSize;
    }

    public int numPatches() {
      return gridSize() * gridSize();
    }

    /** Patches + CLS. */
    public int numTokens() {
      return numPatches() + 1;
    }

    public int patchDim() {
      return channels * patchSize * patchSize;
    }
  }

  /** RoBERTa/BERT text encoder (SPEC §1.2). */
  public record Text(
      @JsonProperty(value = "vocab_size", required = true) int vocabSize,
      @JsonProperty(value = "max_positions", required = true) int maxPositions,
      @JsonProperty(value = "type_vocab_size", required = true) int typeVocabSize,
      @JsonProperty(value = "pad_token_id", required = true) int padTokenId,
      @JsonProperty(value = "position_ids", required = true) PositionIds positionIds,
      @JsonProperty(value = "max_text_len", required = true) int maxTextLen,
      @JsonProperty(required = true) Blocks encoder) {}

  /**
   * Co-attention fusion (SPEC §1.3–1.4): both streams projected to {@code width}, plus a modality-type embedding;
   * {@code layers} co-attention layers per stream; a tanh pooler per stream.
   */
  public record Fusion(
      @JsonProperty(required = true) int width,
      @JsonProperty(required = true) int layers,
      @JsonProperty(required = true) int heads,
      @JsonProperty(value = "mlp_dim", required = true) int mlpDim,
      @JsonProperty(required = true) Activation activation,
      @JsonProperty(value = "ln_eps", required = true) double lnEps,
      @JsonProperty("hidden_dropout") double hiddenDropout,
      @JsonProperty("attention_dropout") double attentionDropout,
      @JsonProperty(value = "modality_types", required = true) int modalityTypes) {
    public int headDim() {
      return width / heads;
    }

    public int jointDim() {
      return 2 * width;
    }
  }

  /**
   * MIM (SPEC §2.3). {@code layer}: how many fusion layers the image stream passes before the decoder reads it
   * (M3AE's mim_layer = 3 of 6; -1 = after the last layer). {@code maskRatio}: share of patches removed.
   */
  public record Mim(
      @JsonProperty(required = true) int layer,
      @JsonProperty(value = "mask_ratio", required = true) double maskRatio,
      @JsonProperty(value = "norm_pix_loss", required = true) boolean normPixLoss,
      @JsonProperty(required = true) Blocks decoder) {}

  /** MLM head (SPEC §2.2): dense → activation → LayerNorm → untied decoder + bias. */
  public record Mlm(
      @JsonProperty(required = true) Activation activation,
      @JsonProperty(value = "ln_eps", required = true) double lnEps) {}

  /** ITM head (SPEC §2.4): Linear(joint → classes). */
  public record Itm(@JsonProperty(required = true) int classes) {}

  /** Random initialisation of weights that no checkpoint provides: N(0, std), LayerNorm 1/0, biases 0. */
  public record Init(@JsonProperty(required = true) double std, @JsonProperty(required = true) long seed) {}

  public static ModelConfig load(Path yaml) {
    return ModelConfigLoader.load(yaml);
  }

  /** The same model with every dropout rate at 0: training graphs then declare no dropout-mask placeholders. */
  public ModelConfig withoutDropout() {
    return new ModelConfig(name,
        new Vision(vision.imageSize(), vision.patchSize(), vision.channels(), noDropout(vision.encoder())),
        new Text(text.vocabSize(), text.maxPositions(), text.typeVocabSize(), text.padTokenId(), text.positionIds(),
            text.maxTextLen(), noDropout(text.encoder())),
        new Fusion(fusion.width(), fusion.layers(), fusion.heads(), fusion.mlpDim(), fusion.activation(), fusion.lnEps(),
            0, 0, fusion.modalityTypes()),
        new Mim(mim.layer(), mim.maskRatio(), mim.normPixLoss(), noDropout(mim.decoder())),
        mlm, itm, init);
  }

  private static Blocks noDropout(Blocks b) {
    return new Blocks(b.width(), b.layers(), b.heads(), b.mlpDim(), b.activation(), b.norm(), b.lnEps(), 0, 0);
  }

  /** Fusion layers after which the MIM decoder reads the image stream, resolved from {@code mim.layer}. */
  public int mimFusionLayer() {
    return mim.layer() < 0 ? fusion.layers() : mim.layer();
  }

  /** Visible patches per image under the configured MIM ratio: M3AE's len_keep = int(N·(1−ratio)). */
  public int mimKeep() {
    return (int) (vision.numPatches() * (1.0 - mim.maskRatio()));
  }
}
