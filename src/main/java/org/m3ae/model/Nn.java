package org.m3ae.model;

import org.m3ae.model.ModelConfig.Activation;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The few operations every block is made of, written from primitive SameDiff ops so that their gradients are right
 * in DL4J 1.0.0-M2.1 (DL4J-NOTES: the fused attention op drops the gradient through its weights, the LayerNorm op
 * has no epsilon, {@code preciseGelu} is the tanh approximation). One instance serves one forward pass: it prefixes
 * the pass's public names and registers its dropout sites.
 */
public final class Nn {
  private final SameDiff sd;
  private final Params params;
  private final String prefix;
  private final boolean training;
  private final boolean sparseText;
  private final DropoutSites dropout;

  Nn(Params params, String prefix, boolean training, boolean sparseText, DropoutSites dropout) {
    this.sd = params.sd();
    this.params = params;
    this.prefix = prefix;
    this.training = training;
    this.sparseText = sparseText;
    this.dropout = dropout;
  }

  public SameDiff sd() {
    return sd;
  }

  public Params params() {
    return params;
  }

  public DataType dtype() {
    return params.dtype();
  }

  /** The pass-qualified name of a public tensor, e.g. {@code "mlm/text.hidden.3"}. */
  public String qualify(String name) {
    return Names.qualified(prefix, name);
  }

  /** Gives {@code v} its stable public name so callers can request it (see {@link Names}). */
  public SDVariable name(SDVariable v, String name) {
    return sd.identity(qualify(name), v);
  }

  /**
   * Token rows [B·T, D] as the public [B, T, D] tensor {@code name}: one reshape that carries the name. The blocks
   * compute on token rows (see {@link #rowsOf}); the named tensors keep the [B, T, D] layout callers read.
   */
  public SDVariable nameTokens(SDVariable rows, String name, int tokens, int width) {
    return sd.reshape(qualify(name), rows, -1, tokens, width); // [B, T, D]
  }

  /**
   * A [B, T, D] tensor as token rows [B·T, D]. Blocks take rows so that their Linears are plain 2-D products: each
   * Linear on [B, T, D] needs a reshape on either side (rank-3 × rank-2 {@code mmul} fails in M2.1), and every reshape
   * is an op in the forward and two in the backward (reshape_bp's shape_of + reshape) — 29 % of a tiny model's
   * training-step ops before this layout (docs/performance.md).
   */
  public SDVariable rowsOf(SDVariable x, int width) {
    return sd.reshape(x, -1, width); // [B·T, D]
  }

  /** x @ W + b over the last axis of a [B, T, in] (or [B, in]) tensor. {@code T} is static in every graph here. */
  public SDVariable linear(SDVariable x, Params.Linear l, int tokens) {
    SDVariable x2 = tokens > 0 ? sd.reshape(x, -1, l.in()) : x; // [B·T, in]
    // mmul + broadcast add, not sd.nn.linear (xw_plus_b): its backward fails inside calculateGradientsAndOutputs in
    // DL4J 1.0.0-M2.1 (NPE in BaseReduceOp.noOp, "this.x is null"; docs/performance.md).
    SDVariable y = x2.mmul(l.w());
    if (l.b() != null) y = y.add(l.b());
    return tokens > 0 ? sd.reshape(y, -1, tokens, l.out()) : y; // [B, T, out]
  }

  /**
   * Embedding lookup table[ids]: [B, L] ids → [B, L, D]. Inference graphs use {@code gather}. Training graphs multiply a one-hot
   * encoding with the table instead: in DL4J 1.0.0-M2.1 the gradient of {@code gather} is built as a loop of
   * {@code put} assignments, which overwrites (rather than sums) the gradient of repeated ids and fails outright
   * when a graph has more than one gather ("Unable to replace samediff namespace"). The one-hot product costs as
   * much as the MLM decoder's logits, and its gradient is exactly the scatter-add.
   */
  /**
   * The word embeddings of a training pass: {@link #embedding} of the whole table, or with {@code sparseText} the
   * rows of the step's batch vocabulary: {@link VocabSelect#ROWS} [U, D], a variable whose value (the table's rows of
   * the U distinct ids) and shape are set before every step, times a one-hot selection [B·Lt, U] fed per pass. Its
   * gradient is the table's, row by row ({@link VocabSelect#scatter}). With a RoBERTa-size table the one-hot product
   * [B·Lt, 50265]·[50265, D] and its gradient are most of a small model's step; gather has no usable gradient in
   * 1.0.0-M2.1 (docs/dl4j.md).
   */
  public SDVariable wordEmbedding(SDVariable table, SDVariable ids, int vocab, int len, int width) {
    if (!training || !sparseText) return embedding(table, ids, vocab, len, width);
    SDVariable rows = sd.hasVariable(VocabSelect.ROWS) ? sd.getVariable(VocabSelect.ROWS)
        : sd.var(VocabSelect.ROWS, Nd4j.zeros(dtype(), 1, width)); //                                  [U, D]
    SDVariable select = sd.placeHolder(qualify(VocabSelect.SELECT), dtype(), -1, -1); //            [B·Lt, U]
    return sd.reshape(select.mmul(rows), -1, len, width); //                                       [B, Lt, D]
  }

  public SDVariable embedding(SDVariable table, SDVariable ids, int vocab, int len, int width) {
    if (!training) return sd.gather(table, ids, 0); // [B, L, D]
    SDVariable oneHot = sd.reshape(sd.oneHot(ids, vocab, -1, 1.0, 0.0, dtype()), -1, vocab); // [B·L, V]
    return sd.reshape(oneHot.mmul(table), -1, len, width); //                                  [B, L, D]
  }

  /**
   * Rows [from, to) of a [rows, D] weight as a constant selection matrix times the weight. Strided slices of
   * variables fail in backprop in DL4J 1.0.0-M2.1 for some shapes (strided_slice_bp: "lengths of arrays are
   * mismatched", seen on a [1, D] table), and the product's gradient is exact. Returns [to − from, D].
   */
  public SDVariable rows(SDVariable table, int from, int to, int rows) {
    double[][] sel = new double[to - from][rows];
    for (int i = from; i < to; i++) sel[i - from][i] = 1;
    return sd.constant(org.nd4j.linalg.factory.Nd4j.createFromArray(sel).castTo(dtype())).mmul(table);
  }

  /** Row {@code i} of a [rows, D] weight as a vector [D] (see {@link #rows}). */
  public SDVariable row(SDVariable table, int i, int rows, int width) {
    return sd.reshape(rows(table, i, i + 1, rows), width);
  }

  /**
   * LayerNorm over the last axis from mean and biased variance, with the config's epsilon (1e-5 or 1e-12). Not
   * libnd4j's fused {@code layer_norm}: besides having no epsilon, it replaces NaN by 0 after standardising, so a
   * row that has gone NaN comes out as the bias and a numeric blow-up no longer shows in the losses (docs/dl4j.md).
   */
  public SDVariable layerNorm(SDVariable x, Params.Norm n, int rank) {
    int ax = rank - 1;
    SDVariable mu = x.mean(true, ax);
    SDVariable xc = x.sub(mu);
    SDVariable var = xc.mul(xc).mean(true, ax);
    SDVariable inv = sd.math.rsqrt(var.add(n.eps()));
    if (training && rank == 2) {
      // Same function, other products: libnd4j M2.1's multiply_bp with a broadcast operand ([N, D]·[N, 1] or ·[D])
      // takes 1.3–4 ms on a tiny model's [320, 128] rows, against ~0.1 ms for a same-shape product's and ~0.3 ms for
      // a small matmul's gradient (docs/performance.md, change 17). So the per-row 1/σ and the per-column gain become
      // one outer product [N, 1]·[1, D], and the broadcasts become plain matmul and same-shape multiply gradients.
      // Only the rounding order differs ((x̂·1/σ)·γ vs x̂·(1/σ·γ)); inference graphs keep the broadcasts (cheaper forward).
      SDVariable scale = sd.mmul(inv, sd.reshape(n.gain(), 1, -1)); // [N, D]
      return xc.mul(scale).add(n.shift());
    }
    return xc.mul(inv).mul(n.gain()).add(n.shift());
  }

  public SDVariable activation(SDVariable x, Activation a) {
    return switch (a) {
      case GELU -> gelu(x);
      case QUICK_GELU -> quickGelu(x);
      case RELU -> sd.nn.relu(x, 0.0);
    };
  }

  /** Exact GELU, x·Φ(x) = 0.5·x·(1 + erf(x/√2)), as BERT/RoBERTa use it. */
  public SDVariable gelu(SDVariable x) {
    return x.mul(0.5).mul(sd.math.erf(x.mul(1.0 / Math.sqrt(2.0))).add(1.0));
  }

  /** CLIP's QuickGELU, x·σ(1.702·x). */
  public SDVariable quickGelu(SDVariable x) {
    return x.mul(sd.nn.sigmoid(x.mul(1.702)));
  }

  /** Additive key mask from a [B, Lk] 0/1 mask: 0 for real keys, −10000 for padding, shaped [B, 1, 1, Lk]. */
  public SDVariable additiveKeyMask(SDVariable mask, int keys) {
    return sd.reshape(mask.sub(1.0).mul(10000.0), -1, 1, 1, keys);
  }

  /** Output of {@link #attention}: context rows [B·Lq, D] and post-softmax probabilities [B, h, Lq, Lk]. */
  public record Attended(SDVariable context, SDVariable probs) {}

  /**
   * Scaled dot-product attention, by hand: softmax(Q·Kᵀ/√d + mask)·V per head. The probabilities are taken before
   * attention dropout, as HF's {@code attention_probs} that distillation taps (SPEC §1.4, §6). {@code q} is [B·Lq, D]
   * or [B, Lq, D], {@code k} and {@code v} [B·Lk, D] or [B, Lk, D]; the context comes back as rows [B·Lq, D].
   */
  public Attended attention(
      SDVariable q, SDVariable k, SDVariable v, SDVariable keyMask, int heads, int lq, int lk, int width,
      String probsName, double attnDropout, String site) {
    int dh = width / heads;
    // The 1/√dh scale is applied to Q [B, Lq, D] rather than to the scores [B, h, Lq, Lk] (h·Lk/D times larger):
    // the same product, and bit-identical when √dh is a power of two (dh = 64 in every full-size config).
    SDVariable qh = sd.reshape(q.mul(1.0 / Math.sqrt(dh)), -1, lq, heads, dh).permute(0, 2, 1, 3); // [B, h, Lq, dh]
    SDVariable kh = sd.reshape(k, -1, lk, heads, dh).permute(0, 2, 1, 3); // [B, h, Lk, dh]
    SDVariable vh = sd.reshape(v, -1, lk, heads, dh).permute(0, 2, 1, 3); // [B, h, Lk, dh]
    // named (Names.scores) so that attention KD can distil the scores before the mask, as EfficientVLM does
    SDVariable scores = sd.mmul(qualify(Names.scores(probsName)), qh, kh, false, true, false); // [B, h, Lq, Lk]
    if (keyMask != null) scores = scores.add(keyMask);
    SDVariable probs = sd.nn.softmax(qualify(probsName), scores, -1); // [B, h, Lq, Lk], named without an identity op
    SDVariable p = dropout(probs, attnDropout, site, heads, lq, lk);
    SDVariable ctx = sd.mmul(p, vh); // [B, h, Lq, dh]
    return new Attended(sd.reshape(ctx.permute(0, 2, 1, 3), -1, width), probs); // [B·Lq, D]
  }

  /**
   * Inverted dropout with a mask fed per step (see {@link DropoutSites}); identity in inference graphs or at rate 0.
   * {@code dims} are the non-batch dimensions of {@code x}.
   */
  public SDVariable dropout(SDVariable x, double rate, String site, long... dims) {
    if (!training || rate <= 0) return x;
    return x.mul(dropoutMask(rate, site, dims));
  }

  /**
   * {@link #dropout} of token rows [B·T, D]: the site's mask keeps its [B, T, D] shape (the same masks as for a
   * [B, T, D] tensor, drawn in the same order) and is viewed as rows.
   */
  public SDVariable dropoutRows(SDVariable rows, double rate, String site, int tokens, int width) {
    if (!training || rate <= 0) return rows;
    return rows.mul(sd.reshape(dropoutMask(rate, site, tokens, width), -1, width));
  }

  private SDVariable dropoutMask(double rate, String site, long... dims) {
    long[] shape = new long[dims.length + 1];
    shape[0] = -1;
    System.arraycopy(dims, 0, shape, 1, dims.length);
    String ph = qualify("dropout/" + site);
    SDVariable m = sd.placeHolder(ph, dtype(), shape);
    dropout.add(new DropoutSites.Site(ph, shape, rate));
    return m;
  }
}
