package org.m3ae.train;

import java.nio.file.Path;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.bytedeco.javacpp.Pointer;
import org.m3ae.data.pipeline.Batch;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The one training loop: per step, accumulate gradients over micro-batches, stop on a non-finite loss, clip the
 * global gradient norm, update with AdamW under the warm-up/linear-decay schedule, and hand the step's metrics to
 * the listeners (metrics file, progress, checkpoints, UI). Loss values are read back from
 * {@code calculateGradientsAndOutputs}, not from DL4J's listener {@code Loss}, which is always 0 in 1.0.0-M2.1.
 */
public final class Trainer {
  /** Optimisation settings of a run. */
  public record Settings(int steps, int accumulate, LrSchedule schedule, Map<LrGroup, Double> multipliers,
      double clipNorm, int gcEvery, Executor executor) {
    /** Gradient calls through plans ({@link Executor#PLAN}). */
    public Settings(int steps, int accumulate, LrSchedule schedule, Map<LrGroup, Double> multipliers, double clipNorm,
        int gcEvery) {
      this(steps, accumulate, schedule, multipliers, clipNorm, gcEvery, Executor.PLAN);
    }

    /** A run's settings: {@code steps} under a config's optimisation keys, collecting every {@code gcEvery} steps. */
    public static Settings of(Optimization o, int steps, int gcEvery) {
      return new Settings(steps, o.accumulate(), o.schedule(steps), o.lrMultipliers(), o.clipNorm(), gcEvery, o.executor());
    }
  }

  private final TrainTask task;
  private final Supplier<Batch> data;
  private final Settings s;
  private final AdamW adam;
  private final List<TrainingListener> listeners;
  private final Map<String, INDArray> params = new LinkedHashMap<>();
  private final Supplier<String> lastCheckpoint;
  /** Plans of each gradient graph, by graph identity (a task may hand out new GradientGraph records per step). */
  private final Map<SameDiff, PlanCache> plans = new IdentityHashMap<>();

  public Trainer(TrainTask task, Supplier<Batch> data, Settings s, AdamW adam, List<TrainingListener> listeners) {
    this(task, data, s, adam, listeners, () -> null);
  }

  /**
   * @param lastCheckpoint the run's last good checkpoint at any moment (null: none), named when a step diverges, e.g.
   *     {@link CheckpointListener#last}
   */
  public Trainer(TrainTask task, Supplier<Batch> data, Settings s, AdamW adam, List<TrainingListener> listeners,
      Supplier<String> lastCheckpoint) {
    this.task = task;
    this.data = data;
    this.s = s;
    this.adam = adam;
    this.listeners = listeners;
    this.lastCheckpoint = lastCheckpoint;
    for (String n : task.trainable()) params.put(n, task.sd().getVariable(n).getArr());
    for (GradientGraph g : task.gradientGraphs()) {
      SameDiff grad = g.gradientFunction(); // built once, up front
      if (s.executor() == Executor.PLAN) plans.put(g.sd(), new PlanCache(grad, "gradient of " + String.join("+", g.lossKeys())));
    }
  }

  /** Learning rate of a group at a step (a group without a multiplier trains at the schedule's rate). */
  public double lr(LrGroup group, int step) {
    return s.schedule().at(step) * s.multipliers().getOrDefault(group, 1.0);
  }

  /** Runs steps {@code start} … {@code steps − 1}. */
  public void run(Path runDir, int start) {
    for (TrainingListener l : listeners) l.onParameters(Collections.unmodifiableMap(params));
    for (TrainingListener l : listeners) l.onStart(runDir, start, s.steps());
    int step = start;
    Throwable failure = null;
    try {
      for (; step < s.steps(); step++) {
        for (TrainingListener l : listeners) l.onStepStart(step);
        StepMetrics m = step(step);
        for (TrainingListener l : listeners) l.onStep(m);
        if (s.gcEvery() > 0 && (step + 1) % s.gcEvery() == 0) System.gc();
      }
    } catch (RuntimeException | Error e) {
      failure = e;
      throw e;
    } finally {
      for (TrainingListener l : listeners) {
        try {
          l.onEnd(step, failure);
        } catch (RuntimeException ignored) {
          // a listener failing at shutdown must not hide the run's own outcome
        }
      }
    }
  }

  /**
   * One optimisation step at 0-based index {@code step} (the schedule's position), without the listeners: what
   * {@link #run} does per step, and what {@code bench} times.
   */
  public StepMetrics step(int step) {
    long t0 = System.nanoTime();
    List<String> lossKeys = task.lossKeys();
    Map<String, INDArray> grads = new HashMap<>();
    Map<String, Double> sums = new LinkedHashMap<>();
    for (String k : lossKeys) sums.put(k, 0.0);
    int pairs = 0;
    for (int micro = 0; micro < s.accumulate(); micro++) {
      Batch batch = data.get();
      pairs += batch.size();
      Map<String, INDArray> feed = task.feed(batch, step, micro);
      for (GradientGraph g : task.gradientGraphs()) {
        GradientGraph.Result r = g.compute(feed, task::lossVariable, plans.get(g.sd()));
        for (var e : r.losses().entrySet()) {
          if (!Double.isFinite(e.getValue())) {
            throw new TrainingDivergedException(step, e.getKey(), e.getValue(), lastCheckpoint.get());
          }
          sums.merge(e.getKey(), e.getValue() / s.accumulate(), Double::sum);
        }
        addInto(grads, task.weightGradients(r.gradients(), feed), 1.0 / s.accumulate());
      }
    }
    for (String n : grads.keySet()) {
      if (!params.containsKey(n)) throw new IllegalStateException("gradient for '" + n + "', which is no trainable weight");
    }
    long t1 = System.nanoTime();
    double norm = globalNorm(grads);
    if (!Double.isFinite(norm)) throw new TrainingDivergedException(step, "grad_norm", norm, lastCheckpoint.get());
    // clipping scales the gradients inside AdamW's pass over them rather than in a pass of its own (change 23)
    double clip = s.clipNorm() > 0 && norm > s.clipNorm() ? s.clipNorm() / (norm + 1e-6) : 1.0;
    adam.step(params, grads, n -> lr(task.lrGroup(n), step), clip);
    long t2 = System.nanoTime();
    double secs = (t2 - t0) / 1e9;

    Map<String, Double> v = new LinkedHashMap<>();
    v.put("lr", lr(LrGroup.BACKBONE, step));
    v.put("lr_fusion", lr(LrGroup.FUSION, step));
    v.put("lr_heads", lr(LrGroup.HEADS, step));
    for (LrGroup g : List.of(LrGroup.VISION, LrGroup.TEXT)) {
      if (lr(g, step) != lr(LrGroup.BACKBONE, step)) v.put("lr_" + g.key(), lr(g, step)); // only a tower with its own rate
    }
    v.putAll(task.stepMetrics(step));
    v.putAll(sums);
    v.put("grad_norm", norm);
    v.put("pairs_per_s", pairs / secs);
    v.put("step_s", secs);
    v.put("update_s", (t2 - t1) / 1e9);
    // ND4J's arrays live outside the Java heap: the process's resident set is the figure that shows memory growth.
    v.put("rss_gb", Pointer.physicalBytes() / 1e9);
    return new StepMetrics(StepMetrics.STEP, step, System.currentTimeMillis(), v);
  }

  /**
   * {@code acc += scale · g} per variable; the first contribution is kept as is when no scaling is needed (a plan's
   * gradient array is then accumulated into in place: each graph runs once per micro-batch, and with more than one
   * micro-batch the scaling makes a copy).
   */
  public static void addInto(Map<String, INDArray> acc, Map<String, INDArray> g, double scale) {
    for (var e : g.entrySet()) {
      INDArray a = acc.get(e.getKey());
      INDArray x = e.getValue();
      if (a == null) acc.put(e.getKey(), scale == 1.0 ? x : x.mul(scale));
      else if (AdamW.wholeFloat32(a) && AdamW.wholeFloat32(x) && a.length() == x.length()) {
        // BLAS saxpy: ~5 µs per call against ~40 µs for libnd4j's addi on a tiny model's weights (change 23)
        Nd4j.getBlasWrapper().level1().axpy(a.length(), scale, x, a);
      } else if (scale == 1.0) a.addi(x);
      else a.addi(x.mul(scale));
    }
  }

  public static double globalNorm(Map<String, INDArray> grads) {
    // g·g through BLAS (sdot) rather than norm2Number(): libnd4j's reduction to a scalar costs 0.2–8 ms per call
    // whatever the array's size (an OpenMP team per call), times one call per weight; sdot takes microseconds.
    double sq = 0;
    for (INDArray g : grads.values()) {
      INDArray flat = g.reshape(g.length());
      sq += Nd4j.getBlasWrapper().dot(flat, flat);
    }
    return Math.sqrt(sq);
  }

  /**
   * How the gradient calls ran, one line per graph: plans built and kept, or why the graph used SameDiff's session
   * (a run logs it at the end; docs/performance.md).
   */
  public String executorReport() {
    if (plans.isEmpty()) return "every gradient call through SameDiff's session (executor: session)";
    StringBuilder b = new StringBuilder();
    for (GradientGraph g : task.gradientGraphs()) {
      PlanCache c = plans.get(g.sd());
      if (c == null) continue;
      if (b.length() > 0) b.append("; ");
      b.append(String.join("+", g.lossKeys())).append(": ");
      if (c.sessionOnly() != null) b.append("SameDiff's session (").append(c.sessionOnly()).append(")");
      else {
        b.append(c.builds()).append(" plans built, ").append(c.size()).append(" kept");
        if (c.releasesBetweenCalls()) b.append(", buffers released between calls");
      }
    }
    return b.toString();
  }

  /**
   * From the next step on, the time of every op of the gradient calls goes to {@code t} (null: untimed); the task's
   * own forwards (a teacher's, the student's clean pass) are not included.
   *
   * @return whether any gradient call runs through plans (with the session executor nothing is timed here)
   */
  public boolean timeOps(OpTimes t) {
    for (PlanCache c : plans.values()) c.timeOps(t);
    return !plans.isEmpty();
  }

  public AdamW optimizer() {
    return adam;
  }

  public Map<String, INDArray> parameters() {
    return params;
  }
}
