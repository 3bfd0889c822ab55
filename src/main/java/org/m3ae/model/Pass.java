package org.m3ae.model;

import java.util.List;
import org.nd4j.autodiff.samediff.SDVariable;

/**
 * The tensors of one forward pass, in the order the paper describes them. Every listed variable also carries its
 * stable name from {@link Names} (qualified by the pass name), so a caller holding only the SameDiff can ask for it.
 * Heads the pass was not built with are null.
 */
public record Pass(
    PassSpec spec,
    int textLen,
    int imageTokens,
    List<SDVariable> visionHidden,
    List<SDVariable> visionAttn,
    SDVariable visionOut,
    List<SDVariable> textHidden,
    List<SDVariable> textAttn,
    SDVariable textOut,
    List<SDVariable> fusionTextHidden,
    List<SDVariable> fusionImageHidden,
    List<SDVariable> fusionTextSelfAttn,
    List<SDVariable> fusionTextCrossAttn,
    List<SDVariable> fusionImageSelfAttn,
    List<SDVariable> fusionImageCrossAttn,
    SDVariable pooledText,
    SDVariable pooledImage,
    SDVariable joint,
    SDVariable mlmLogits,
    SDVariable mimPred,
    SDVariable itmLogits) {

  /** The pass-qualified name of a {@link Names} entry (placeholders included). */
  public String name(String plain) {
    return Names.qualified(spec.name(), plain);
  }
}
