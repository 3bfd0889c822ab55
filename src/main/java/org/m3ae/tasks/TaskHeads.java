package org.m3ae.tasks;

import java.util.SplittableRandom;
import org.m3ae.weights.TensorSource;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The downstream heads of SPEC §2.5 as SameDiff variables named like the official checkpoint, with weights laid out
 * [in, out] as everywhere in this project. Written from elementwise ops (LayerNorm, exact GELU) because the fused
 * ops of DL4J 1.0.0-M2.1 have no epsilon / the tanh GELU (docs/dl4j.md).
 */
public final class TaskHeads {
  /** nn.LayerNorm's default, which M3AE's VQA/CLS heads use (SPEC §2.5). */
  public static final double HEAD_LN_EPS = 1e-5;

  /** M3AE's init_weights: Linear weights N(0, 0.02), biases 0; LayerNorm gain 1, shift 0. */
  static final double INIT_STD = 0.02;

  private TaskHeads() {}

  /** Variables of {@code prefix}.0 (Linear), .1 (LayerNorm), .3 (Linear): the VQA / classification MLP head. */
  public record Mlp(SDVariable w0, SDVariable b0, SDVariable gain, SDVariable shift, SDVariable w3, SDVariable b3, int out) {}

  public static Mlp mlp(SameDiff sd, String prefix, int in, int out, long seed, DataType dt) {
    SplittableRandom rng = new SplittableRandom(seed);
    return new Mlp(
        sd.var(prefix + ".0.weight", normal(rng, dt, in, in)),
        sd.var(prefix + ".0.bias", Nd4j.zeros(dt, in)),
        sd.var(prefix + ".1.weight", Nd4j.ones(dt, in)),
        sd.var(prefix + ".1.bias", Nd4j.zeros(dt, in)),
        sd.var(prefix + ".3.weight", normal(rng, dt, in, out)),
        sd.var(prefix + ".3.bias", Nd4j.zeros(dt, out)),
        out);
  }

  /** Linear → LayerNorm → GELU → Linear on the joint feature [B, in] → [B, out]. */
  public static SDVariable apply(SameDiff sd, Mlp h, SDVariable x) {
    SDVariable y = x.mmul(h.w0()).add(h.b0());
    y = gelu(sd, layerNorm(sd, y, h.gain(), h.shift(), HEAD_LN_EPS));
    return y.mmul(h.w3()).add(h.b3());
  }

  /** The retrieval head: Linear(2·Df, 1), {@code irtr_head.weight} [in, 1] and {@code irtr_head.bias} [1]. */
  public record Irtr(SDVariable w, SDVariable b) {}

  public static Irtr irtr(SameDiff sd, int in, long seed, DataType dt) {
    SplittableRandom rng = new SplittableRandom(seed);
    return new Irtr(sd.var("irtr_head.weight", normal(rng, dt, in, 1)), sd.var("irtr_head.bias", Nd4j.zeros(dt, 1)));
  }

  public static SDVariable apply(Irtr h, SDVariable joint) {
    return joint.mmul(h.w()).add(h.b()); // [B, 1]
  }

  /**
   * SPEC §2.5: irtr_head starts as the ITM head's "match" logit. PyTorch keeps itm_head.fc.weight as [2, in] and M3AE
   * copies row 1; our layout is [in, 2], so that is column 1, and bias[1]. Both layouts are read (a run's graph-layout
   * weights, or the official checkpoint itself); the shape tells which.
   *
   * @return false when the checkpoint has no ITM head (the head keeps its random initialisation)
   */
  public static boolean initIrtrFromItm(Irtr h, TensorSource src) {
    String wKey = "itm_head.fc.weight", bKey = "itm_head.fc.bias";
    if (!src.contains(wKey) || !src.contains(bKey)) return false;
    long[] s = src.shape(wKey);
    long in = h.w().getArr().size(0);
    boolean graphLayout = s.length == 2 && s[0] == in && s[1] >= 2;
    boolean torchLayout = s.length == 2 && s[1] == in && s[0] >= 2;
    if (!graphLayout && !torchLayout) {
      throw new IllegalArgumentException(src.origin() + ": key '" + wKey + "' has shape " + java.util.Arrays.toString(s)
          + ", expected [" + in + ", 2] (graph layout [in, out]) or [2, " + in + "] (PyTorch layout [out, in])");
    }
    float[] w = src.readFloats(wKey);
    float[] b = src.readFloats(bKey);
    INDArray wi = h.w().getArr();
    for (int i = 0; i < in; i++) wi.putScalar(i, 0, graphLayout ? w[i * (int) s[1] + 1] : w[(int) in + i]);
    h.b().getArr().putScalar(0, b[1]);
    return true;
  }

  /**
   * Whether a graph variable (or an official checkpoint key: the names are the same, SPEC §4) belongs to a downstream
   * head, which m3ae_module.py builds per task: {@code vqa_head}, {@code cls_head}, {@code irtr_head}.
   */
  public static boolean isTaskHead(String name) {
    return name.startsWith("vqa_head.") || name.startsWith("cls_head.") || name.startsWith("irtr_head.");
  }

  /**
   * Checks, before a load, that every head variable of {@code sd} whose key {@code src} carries can take that key's
   * value: a head fine-tuned on another label set (498 VQA-RAD answers into a 222-answer SLAKE graph) is an error naming
   * the key, the file's shape, the graph's, and {@code fix}. Without this the loader would stop at the first mismatch
   * with no word on label counts.
   */
  public static void checkShapes(SameDiff sd, TensorSource src, org.m3ae.weights.KeyMap map, String fix) {
    java.util.List<SDVariable> vars = new java.util.ArrayList<>();
    for (SDVariable v : sd.variables()) {
      if (v.getVariableType() == org.nd4j.autodiff.samediff.VariableType.VARIABLE && isTaskHead(v.name())) vars.add(v);
    }
    // weights before biases: a weight's two shapes say more (both widths and the label count) than a bias's one
    vars.sort(java.util.Comparator.comparingInt(v -> -v.getArr().rank()));
    for (SDVariable v : vars) {
      long[] shape = v.getArr().shape();
      org.m3ae.weights.KeyMap.Rule rule = map.rule(v.name(), shape);
      if (rule == null || !src.contains(rule.sourceKey())) continue;
      try {
        rule.transform().apply(src, rule.sourceKey(), shape);
      } catch (org.m3ae.weights.WeightsException e) {
        long[] have = src.shape(rule.sourceKey());
        String head = v.name().substring(0, v.name().indexOf('.'));
        // the graph keeps Linear weights [in, out]; PyTorch (and the official checkpoint) [out, in]
        String torch = shape.length == 2 ? " (PyTorch layout [out, in]: [" + shape[1] + ", " + shape[0] + "])" : "";
        throw new IllegalArgumentException(src.origin() + ": key '" + rule.sourceKey() + "' has shape "
            + java.util.Arrays.toString(have) + ", but this task's " + head + " needs " + java.util.Arrays.toString(shape)
            + torch + ": the file's " + head + " was trained for another number of outputs (answers, classes) than the "
            + outputsOf(sd, head) + " of this task; " + fix, e);
      }
    }
  }

  private static String outputsOf(SameDiff sd, String head) {
    SDVariable last = sd.getVariable(head + (head.equals("irtr_head") ? ".bias" : ".3.bias"));
    return last == null ? "?" : Long.toString(last.getArr().length());
  }

  /** LayerNorm over the last axis of [B, D], biased variance as torch. */
  public static SDVariable layerNorm(SameDiff sd, SDVariable x, SDVariable gain, SDVariable shift, double eps) {
    SDVariable mu = x.mean(true, 1);
    SDVariable xc = x.sub(mu);
    SDVariable var = xc.mul(xc).mean(true, 1);
    return xc.mul(sd.math.rsqrt(var.add(eps))).mul(gain).add(shift);
  }

  /** Exact GELU 0.5·x·(1 + erf(x/√2)), torch.nn.GELU's default. */
  public static SDVariable gelu(SameDiff sd, SDVariable x) {
    return x.mul(0.5).mul(sd.math.erf(x.mul(1.0 / Math.sqrt(2.0))).add(1.0));
  }

  static INDArray normal(SplittableRandom rng, DataType dt, long rows, long cols) {
    float[] v = new float[Math.toIntExact(rows * cols)];
    for (int i = 0; i < v.length; i++) v[i] = (float) (gaussian(rng) * INIT_STD);
    return Nd4j.create(v, new long[] {rows, cols}, 'c').castTo(dt);
  }

  static double gaussian(SplittableRandom rng) {
    double u = Math.max(rng.nextDouble(), 1e-300), v = rng.nextDouble();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}
