package org.m3ae.train;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.m3ae.weights.SafetensorsReader;
import org.m3ae.weights.SafetensorsWriter;
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
   * <p>The moments and the update go through libnd4j's fused {@code adam_updater} (the formula above, in place),
   * which overwrites each gradient array with its update: {@code grads} is consumed. Written with ND4J's
   * elementwise operators instead, the same update took 12–14 s per step for the teacher's 365 M pre-training
   * parameters on one core, with five temporaries of the parameters' size (docs/performance.md, change 9).
   *
   * @param lrFor learning rate of each variable (its group's lr at this step)
   */
  public void step(Map<String, INDArray> params, Map<String, INDArray> grads, Function<String, Double> lrFor) {
    t++;
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
      // adam_updater takes the 0-based iteration (it raises the betas to iteration + 1). With lr = 0 it would fall
      // back to ε as its step size, so a frozen group's update is computed for its moments and then dropped.
      Nd4j.exec(new AdamUpdater(g, vi, mi, lr, s.beta1(), s.beta2(), s.eps(), (int) (t - 1)));
      if (lr == 0) continue;
      w.subi(g);
      if (s.weightDecay() > 0 && s.noDecay().decays(name, w.shape())) w.muli(1 - lr * s.weightDecay());
    }
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
