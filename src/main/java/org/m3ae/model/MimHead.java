package org.m3ae.model;

import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * M3AE's MAE-style MIM decoder (SPEC §2.3): decoder_embed → mask tokens at the removed patches → unshuffle →
 * fixed 2-D sin-cos positions → pre-LN CLIP blocks → decoder_norm → decoder_pred, CLS dropped.
 */
final class MimHead {
  private MimHead() {}

  /**
   * @param imageFeats [B, 1+K, Df]: the fusion image stream of a pass that saw CLS + K visible patches
   * @param keepIds [B, K] int indices of those patches
   * @return [B, N, P·P·C] predictions for every patch (the loss keeps the masked ones)
   */
  static SDVariable forward(Nn nn, ModelConfig c, SDVariable imageFeats, SDVariable keepIds, int keep) {
    SameDiff sd = nn.sd();
    Params p = nn.params();
    var dc = c.mim().decoder();
    int dd = dc.width(), n = c.vision().numPatches();
    var embed = p.linear("mim_head.decoder_embed", c.fusion().width(), dd);
    SDVariable maskToken = p.normal("mim_head.mask_token", 1, 1, dd);
    SDVariable pos = p.constant("mim_head.decoder_pos_embed", sincos2d(dd, c.vision().gridSize()).reshape(1, n + 1, dd));
    var norm = p.norm("mim_head.decoder_norm", dd, dc.lnEps());
    var pred = p.linear("mim_head.decoder_pred", dd, c.vision().patchDim());

    SDVariable x = nn.linear(imageFeats, embed, keep + 1); // [B, 1+K, Dd]
    SDVariable cls = x.get(SDIndex.all(), SDIndex.interval(0, 1), SDIndex.all()); // [B, 1, Dd]
    SDVariable vis = x.get(SDIndex.all(), SDIndex.interval(1, keep + 1), SDIndex.all()); // [B, K, Dd]
    // Unshuffle by scattering through the same one-hot selection the encoder gathered with.
    SDVariable select = sd.oneHot(keepIds, n, -1, 1.0, 0.0, nn.dtype()); // [B, K, N]
    SDVariable placed = sd.mmul(select, vis, true, false, false); //        [B, N, Dd]
    SDVariable visible = sd.reshape(select.sum(1), -1, n, 1); //            [B, N, 1]
    SDVariable full = placed.add(visible.rsub(1.0).mul(maskToken)); //     [B, N, Dd]
    x = sd.concat(1, cls, full).add(pos); //                                [B, N+1, Dd]
    SDVariable rows = nn.rowsOf(x, dd); //                                  [B·(N+1), Dd]
    for (int i = 0; i < dc.layers(); i++) {
      rows = ClipBlock.forward(nn, "mim_head.decoder.resblocks." + i, rows, n + 1, dc, "mim.decoder.attn." + i, "mim." + i);
    }
    rows = nn.linear(nn.layerNorm(rows, norm, 2), pred, 0); //             [B·(N+1), P·P·C]
    x = sd.reshape(rows, -1, n + 1, c.vision().patchDim()); //              [B, N+1, P·P·C]
    return x.get(SDIndex.all(), SDIndex.interval(1, n + 1), SDIndex.all()); // [B, N, P·P·C]
  }

  /**
   * MAE's {@code get_2d_sincos_pos_embed(dim, grid, cls_token=True)}: a zero CLS row, then for patch (row i, col j)
   * the 1-D sin-cos code of j in the first half and of i in the second, each half = [sin(pos·ω), cos(pos·ω)] with
   * ω_k = 1 / 10000^(k / (dim/4)).
   */
  static INDArray sincos2d(int dim, int grid) {
    if (dim % 4 != 0) throw new IllegalArgumentException("mim.decoder.width " + dim + " must be a multiple of 4");
    int quarter = dim / 4;
    double[][] table = new double[grid * grid + 1][dim];
    for (int i = 0; i < grid; i++) {
      for (int j = 0; j < grid; j++) {
        double[] row = table[1 + i * grid + j];
        for (int k = 0; k < quarter; k++) {
          double omega = 1.0 / Math.pow(10000.0, k / (double) quarter);
          row[k] = Math.sin(j * omega);
          row[quarter + k] = Math.cos(j * omega);
          row[2 * quarter + k] = Math.sin(i * omega);
          row[3 * quarter + k] = Math.cos(i * omega);
        }
      }
    }
    return Nd4j.create(table).castTo(DataType.FLOAT);
  }
}
