package org.m3ae.train;

import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.m3ae.weights.SafetensorsReader;
import org.m3ae.weights.SafetensorsWriter;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.updaters.AdamUpdater;
import org.nd4j.linalg.factory.Nd4j;

/**
 * AdamW as M3AE configures it (SPEC §2.6: HF AdamW, betas (0.9, 0.98), eps 1e-8, weight decay 0.01 decoupled
 * from the gradient, none on the names {@link NoDecay} exempts), with one learning-rate multiplier per parameter group.
 * Written over ND4J arrays because SameDiff's {@code TrainingConfig} has one updater and one learning rate for the
 * whole graph. The moments live here, outside the graph, and are saved in their own file (a full model plus two
 * moments would exceed SameDiff's serialisation limit).
 */
public final class AdamW {
  /** Hyper-parameters; {@code noDecay} picks the parameters that are not decayed. */
  public record Settings(double beta1, double beta2, double eps, double weightDecay, NoDecay noDecay) {
    /** With M3AE's no-decay rule. */
    public Settings(double beta1, double beta2, double eps, double weightDecay) {
      this(beta1, beta2, eps, weightDecay, NoDecay.M3AE);
    }
  }

  private final Settings s;
  private final Map<String, INDArray> m = new LinkedHashMap<>();
  private final Map<String, INDArray> v = new LinkedHashMap<>();
  private long t;

  public AdamW(Settings s) {
    this.s = s;
  }

  /** Steps taken so far (bias correction uses it). */
  public long steps() {
    return t;
  }

  /**
   * One update of every parameter in place: w ← (w − lr_g·√bc2/bc1 · m/(√v + ε))·(1 − lr_g·λ), with λ = 0 for
   * no-decay names. HF's AdamW folds the bias corrections into the step size and applies the decay after the Adam
   * step, as here.
   *
   * @param lrFor learning rate of each variable (its group's lr at this step)
   */
  public void step(Map<String, INDArray> params, Map<String, INDArray> grads, Function<String, Double> lrFor) {
    step(params, grads, lrFor, 1.0);
  }

  /**
   * {@link #step(Map, Map, Function)} on the gradients times {@code gradScale} (the global-norm clipping factor),
   * without writing the scaled gradients anywhere.
   *
   * <p>Contiguous float32 arrays take one pass of plain Java over their native buffers per parameter: scale, both
   * moments, the step and the decay, reading g, m, v, w once and writing m, v, w once. libnd4j's fused
   * {@code adam_updater} plus the {@code subi} and {@code muli} after it took 10–20 ns per element (it is evaluated
   * element by element with powers of the betas) and ~30–50 µs of dispatch per call: 40–60 ms of a tiny model's
   * 0.5 s step for 2.8 M parameters, 3 s of the full teacher's (docs/performance.md, change 23). Other dtypes and
   * strided views keep that path, which overwrites their gradient arrays with the update.
   */
  public void step(Map<String, INDArray> params, Map<String, INDArray> grads, Function<String, Double> lrFor,
      double gradScale) {
    t++;
    // HF AdamW: step size lr·√(1−β2^t)/(1−β1^t), ε added to √v, decay after the Adam step
    double bc = Math.sqrt(1 - Math.pow(s.beta2(), t)) / (1 - Math.pow(s.beta1(), t));
    for (var e : params.entrySet()) {
      String name = e.getKey();
      INDArray w = e.getValue();
      INDArray g = grads.get(name);
      if (g == null) continue;
      if (!Arrays.equals(g.shape(), w.shape())) {
        throw new IllegalArgumentException("gradient of '" + name + "' has shape " + Arrays.toString(g.shape())
            + ", the weight " + Arrays.toString(w.shape()));
      }
      INDArray mi = m.computeIfAbsent(name, k -> Nd4j.zeros(w.dataType(), w.shape()));
      INDArray vi = v.computeIfAbsent(name, k -> Nd4j.zeros(w.dataType(), w.shape()));
      double lr = lrFor.apply(name);
      double decay = s.weightDecay() > 0 && s.noDecay().decays(name, w.shape()) ? 1 - lr * s.weightDecay() : 1;
      FloatBuffer wb = contiguousFloats(w), gb = contiguousFloats(g), mb = contiguousFloats(mi), vb = contiguousFloats(vi);
      if (wb != null && gb != null && mb != null && vb != null) {
        fused(wb, gb, mb, vb, (int) w.length(), (float) gradScale, (float) (lr * bc), (float) decay);
        continue;
      }
      if (gradScale != 1.0) g.muli(gradScale);
      // adam_updater takes the 0-based iteration (it raises the betas to iteration + 1). With lr = 0 it would fall
      // back to ε as its step size, so a frozen group's update is computed for its moments and then dropped.
      Nd4j.exec(new AdamUpdater(g, vi, mi, lr, s.beta1(), s.beta2(), s.eps(), (int) (t - 1)));
      if (lr == 0) continue;
      w.subi(g);
      if (decay != 1) w.muli(decay);
    }
  }

  /**
   * The whole update of one parameter, element by element in float32 as libnd4j's kernel computes it. With lr = 0
   * the step is 0 and the decay 1, so the weights stay bit for bit and only the moments move.
   */
  private void fused(FloatBuffer w, FloatBuffer g, FloatBuffer m, FloatBuffer v, int n, float scale, float step,
      float decay) {
    float b1 = (float) s.beta1(), b2 = (float) s.beta2(), c1 = 1 - b1, c2 = 1 - b2, eps = (float) s.eps();
    for (int i = 0; i < n; i++) {
      float gi = g.get(i) * scale;
      float mi = b1 * m.get(i) + c1 * gi;
      float vi = b2 * v.get(i) + c2 * gi * gi;
      m.put(i, mi);
      v.put(i, vi);
      w.put(i, (w.get(i) - step * (mi / ((float) Math.sqrt(vi) + eps))) * decay);
    }
  }

  /**
   * The float32 elements of {@code a} in row-major order as a buffer indexed from 0, or null when {@code a} is not a
   * whole, contiguous float32 array (a view, another dtype, a column-major or strided layout).
   */
  static FloatBuffer contiguousFloats(INDArray a) {
    return wholeFloat32(a) ? a.data().asNioFloat() : null;
  }

  /** Whether {@code a} is a whole, row-major float32 array with unit stride: one plain vector for Java or BLAS level 1. */
  static boolean wholeFloat32(INDArray a) {
    return a.dataType() == DataType.FLOAT && !a.isView() && a.ordering() == 'c' && a.data().length() == a.length()
        && a.length() <= Integer.MAX_VALUE && (a.length() == 1 || a.elementWiseStride() == 1);
  }

  /** Saves the moments and the step count (float32, graph variable names prefixed {@code m/} and {@code v/}). */
  public void save(Path file) {
    SafetensorsWriter w = new SafetensorsWriter().metadata("adamw.t", Long.toString(t));
    for (var e : m.entrySet()) w.add("m/" + e.getKey(), e.getValue());
    for (var e : v.entrySet()) w.add("v/" + e.getKey(), e.getValue());
    w.write(file);
  }

  public void load(Path file, List<String> names) {
    try (SafetensorsReader r = SafetensorsReader.open(file)) {
      t = Long.parseLong(r.metadata().getOrDefault("adamw.t", "0"));
      m.clear();
      v.clear();
      for (String n : names) {
        if (r.contains("m/" + n)) m.put(n, Nd4j.create(r.readFloats("m/" + n), r.shape("m/" + n), 'c'));
        if (r.contains("v/" + n)) v.put(n, Nd4j.create(r.readFloats("v/" + n), r.shape("v/" + n), 'c'));
      }
    }
  }
}
