package org.m3ae.model;

import java.util.ArrayList;
import java.util.List;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/**
 * CLIP ViT image encoder (SPEC §1.1): conv1 patch embedding (no bias) → prepend CLS → add positions → ln_pre → pre-LN
 * blocks → ln_post on every token. With {@code keepIds} it runs MAE-style on CLS + the visible patches only
 * (SPEC §2.3): positions are added before patches are dropped, so each visible patch keeps its own position.
 */
final class VisionEncoder {
  static final String P = "vision_encoder.visual.";

  /** Hidden states [B, Li, Dv] (index 0 = after ln_pre, i = after block i), attentions [B, h, Li, Li], output. */
  record Out(List<SDVariable> hidden, List<SDVariable> attn, SDVariable out, int tokens) {}

  private VisionEncoder() {}

  /**
   * @param image [B, C, H, W], CLIP-normalised
   * @param keepIds null, or [B, K] int indices of the visible patches (0..N-1)
   */
  static Out forward(Nn nn, ModelConfig.Vision c, SDVariable image, SDVariable keepIds, int keep) {
    SameDiff sd = nn.sd();
    Params p = nn.params();
    var e = c.encoder();
    int d = e.width(), g = c.gridSize(), n = c.numPatches(), ps = c.patchSize(), ch = c.channels();

    var conv1 = p.linearNoBias(P + "conv1", c.patchDim(), d); // conv1 [D, C, P, P] as [C·P·P, D]
    SDVariable cls = p.normal(P + "class_embedding", d);
    SDVariable pos = p.normal(P + "positional_embedding", n + 1, d);
    var lnPre = p.norm(P + "ln_pre", d, e.lnEps());
    var lnPost = p.norm(P + "ln_post", d, e.lnEps());

    // A stride-P convolution is a Linear on patches flattened in conv1's own (c, kh, kw) order.
    SDVariable patches = sd.reshape(image, -1, ch, g, ps, g, ps) // [B, C, gh, P, gw, P]
        .permute(0, 2, 4, 1, 3, 5); //                              [B, gh, gw, C, P, P]
    patches = sd.reshape(patches, -1, n, c.patchDim()); //          [B, N, C·P·P]
    SDVariable x = nn.linear(patches, conv1, n); //                 [B, N, D]
    x = x.add(nn.rows(pos, 1, n + 1, n + 1)); //                     positions before masking

    int kept = n;
    if (keepIds != null) {
      // Row-select with a one-hot matmul: differentiable, and the batch stays a free dimension.
      SDVariable select = sd.oneHot(keepIds, n, -1, 1.0, 0.0, nn.dtype()); // [B, K, N]
      x = sd.mmul(select, x); //                                            [B, K, D]
      kept = keep;
    }
    // Broadcast CLS to the batch from a zero tensor derived from the input image: deriving it from a slice of x
    // breaks strided_slice_bp after the one-hot selection in DL4J 1.0.0-M2.1 ("lengths of arrays are mismatched").
    SDVariable batchZeros = sd.reshape(sd.zerosLike(image).sum(1, 2, 3), -1, 1, 1); // [B, 1, 1]
    SDVariable clsTok = batchZeros.add(cls.add(nn.row(pos, 0, n + 1, d))); //         [B, 1, D]
    int t = kept + 1;
    x = sd.concat(1, clsTok, x); //                                         [B, Li, D]
    x = nn.layerNorm(x, lnPre, 3);

    List<SDVariable> hidden = new ArrayList<>();
    List<SDVariable> attn = new ArrayList<>();
    hidden.add(x = nn.name(x, Names.visionHidden(0)));
    SDVariable rows = nn.rowsOf(x, d); // [B·Li, D]: the blocks run on token rows; each named hidden state is a view
    for (int i = 0; i < e.layers(); i++) {
      String bp = P + "transformer.resblocks." + i;
      rows = ClipBlock.forward(nn, bp, rows, t, e, Names.visionAttn(i), "vision." + i);
      attn.add(nn.sd().getVariable(nn.qualify(Names.visionAttn(i))));
      hidden.add(nn.nameTokens(rows, Names.visionHidden(i + 1), t, d));
    }
    SDVariable out = nn.nameTokens(nn.layerNorm(rows, lnPost, 2), Names.VISION_OUT, t, d);
    return new Out(hidden, attn, out, t);
  }
}
