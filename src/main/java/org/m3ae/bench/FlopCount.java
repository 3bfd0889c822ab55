package org.m3ae.bench;

import java.util.LinkedHashMap;
import java.util.Map;
import org.m3ae.model.ModelConfig;

/**
 * Model FLOPs of one image–text pair, counted analytically from a config: every matrix product counts
 * 2·m·n·k (one multiply and one add), the convention of transformer FLOP counts. LayerNorm, softmax, activations,
 * residual adds and the graph's implementation products (one-hot embedding lookups in training graphs, one-hot
 * patch selection, constant row selections) are not model FLOPs and are left out; {@link #implementationOverhead}
 * reports the one-hot products separately, because on this backend they are executed as dense matmuls.
 *
 * <p>A pass counts only what its output needs: an MLM pass reads the text stream after the last fusion layer (so
 * the image stream's last layer is not needed), a MIM pass the image stream after {@code mim.layer}, an ITM or
 * inference pass the joint feature (every layer of both streams). A training step counts 3× its forward FLOPs
 * (backward ≈ 2× forward: gradients with respect to inputs and weights).
 */
public final class FlopCount {
  private FlopCount() {}

  /** Which forward pass of a model. */
  public enum PassKind {
    /** Full pair, joint feature, no head: fine-tuning and deployment. */
    INFERENCE,
    /** Full image, masked text, MLM head. */
    MLM,
    /** Visible patches only, full text, MIM decoder. */
    MIM,
    /** Full pair, ITM head on the joint feature. */
    ITM
  }

  /** FLOPs per module (insertion order) and their sum. */
  public record Breakdown(Map<String, Long> modules) {
    public long total() {
      return modules.values().stream().mapToLong(Long::longValue).sum();
    }

    public Breakdown times(long k) {
      Map<String, Long> m = new LinkedHashMap<>();
      modules.forEach((n, v) -> m.put(n, v * k));
      return new Breakdown(m);
    }

    public Breakdown plus(String prefix, Breakdown o) {
      Map<String, Long> m = new LinkedHashMap<>(modules);
      o.modules.forEach((n, v) -> m.merge(prefix + n, v, Long::sum));
      return new Breakdown(m);
    }
  }

  /** 2·tokens·in·out. */
  public static long linear(long tokens, long in, long out) {
    return 2L * tokens * in * out;
  }

  /** Q·Kᵀ and P·V over all heads: 2 · (2·lq·lk·width). */
  public static long attention(long lq, long lk, long width) {
    return 4L * lq * lk * width;
  }

  /** A CLIP or BERT self-attention block: q, k, v, out, the two MLP layers, attention. */
  public static long selfBlock(long tokens, long width, long mlp) {
    return 4 * linear(tokens, width, width) + linear(tokens, width, mlp) + linear(tokens, mlp, width)
        + attention(tokens, tokens, width);
  }

  /** One stream of a co-attention layer: self-attention, cross-attention to {@code other} tokens, feed-forward. */
  public static long coAttentionStream(long len, long otherLen, long width, long mlp) {
    long self = 4 * linear(len, width, width) + attention(len, len, width);
    long cross = 2 * linear(len, width, width) + 2 * linear(otherLen, width, width) + attention(len, otherLen, width);
    long ffn = linear(len, width, mlp) + linear(len, mlp, width);
    return self + cross + ffn;
  }

  /** Forward FLOPs of one pair through one pass. */
  public static Breakdown pass(ModelConfig c, PassKind kind) {
    var v = c.vision();
    var ve = v.encoder();
    var te = c.text().encoder();
    var f = c.fusion();
    long n = v.numPatches();
    long li = kind == PassKind.MIM ? c.mimKeep() + 1 : n + 1;
    long lt = c.text().maxTextLen();
    Map<String, Long> m = new LinkedHashMap<>();

    // Patch embedding runs on every patch (positions are added before MIM drops patches).
    m.put("vision", linear(n, v.patchDim(), ve.width()) + ve.layers() * selfBlock(li, ve.width(), ve.mlpDim()));
    m.put("text", te.layers() * selfBlock(lt, te.width(), te.mlpDim()));
    m.put("projections", linear(lt, te.width(), f.width()) + linear(li, ve.width(), f.width()));

    int layers = f.layers();
    int textLayers, imageLayers;
    switch (kind) {
      case MLM -> {
        textLayers = layers;
        imageLayers = layers - 1;
      }
      case MIM -> {
        imageLayers = c.mimFusionLayer();
        textLayers = Math.max(0, c.mimFusionLayer() - 1);
      }
      default -> {
        textLayers = layers;
        imageLayers = layers;
      }
    }
    m.put("fusion", textLayers * coAttentionStream(lt, li, f.width(), f.mlpDim())
        + imageLayers * coAttentionStream(li, lt, f.width(), f.mlpDim()));

    long df = f.width();
    switch (kind) {
      case INFERENCE -> m.put("poolers", 2 * linear(1, df, df));
      case ITM -> m.put("heads", 2 * linear(1, df, df) + linear(1, f.jointDim(), c.itm().classes()));
      case MLM -> m.put("heads", linear(lt, df, df) + linear(lt, df, c.text().vocabSize()));
      case MIM -> {
        var d = c.mim().decoder();
        m.put("heads", linear(li, df, d.width()) + d.layers() * selfBlock(n + 1, d.width(), d.mlpDim())
            + linear(n + 1, d.width(), v.patchDim()));
      }
    }
    return new Breakdown(m);
  }

  /** The joint feature of one pair: what inference costs. */
  public static long inference(ModelConfig c) {
    return pass(c, PassKind.INFERENCE).total();
  }

  /** Forward FLOPs of M3AE's three pre-training passes for one pair. */
  public static long pretrainForward(ModelConfig c) {
    return pass(c, PassKind.MLM).total() + pass(c, PassKind.MIM).total() + pass(c, PassKind.ITM).total();
  }

  /** A full pre-training step per pair: forward + backward of MLM, MIM and ITM (3× forward). */
  public static long pretrainStep(ModelConfig c) {
    return 3 * pretrainForward(c);
  }

  /**
   * A distillation step per pair: the teacher's forward of the three passes (targets for both KD terms and the
   * attention that guides the MIM mask) plus the student's pre-training step. The KD losses themselves are
   * elementwise and not counted.
   */
  public static long distillStep(ModelConfig student, ModelConfig teacher) {
    return pretrainForward(teacher) + pretrainStep(student);
  }

  /**
   * One-hot products a training pass executes as dense matmuls on this backend (word and position lookups of the
   * text embedding, MIM patch gather and scatter), forward only; not model FLOPs.
   */
  public static long implementationOverhead(ModelConfig c, PassKind kind) {
    long lt = c.text().maxTextLen();
    long d = c.text().encoder().width();
    long o = linear(lt, c.text().vocabSize(), d);
    if (c.text().positionIds() == ModelConfig.PositionIds.ROBERTA) o += linear(lt, c.text().maxPositions(), d);
    if (kind == PassKind.MIM) {
      long n = c.vision().numPatches();
      long k = c.mimKeep();
      o += linear(k, n, c.vision().encoder().width()) + linear(n, k, c.mim().decoder().width());
    }
    return o;
  }
}
