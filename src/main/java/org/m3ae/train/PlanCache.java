package org.m3ae.train;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link GraphPlan}s of one graph, one per feed shape and output list, least recently used dropped first.
 *
 * <p>A graph falls back to SameDiff's session for good when it cannot be planned ({@link GraphPlan.Unsupported}).
 * A plan keeps its forward + backward live set allocated between calls, which a full-size model cannot afford once per
 * pass; once one plan's buffers exceed the budget, or a shape whose plan was dropped for the budget comes back, the
 * graph's plans free them after each call (all but the requested outputs) and allocate them again on the next
 * ({@link GraphPlan#release}), as the session does per call.
 */
public final class PlanCache {
  private static final Logger LOG = LoggerFactory.getLogger(PlanCache.class);

  /**
   * Default number of plans kept per graph. The MLM pass of a small run sees the product of its batch-vocabulary and
   * selected-row buckets (the demo's teacher: ~15 shapes; with 6 kept it rebuilt 69 plans in 600 steps), so the count
   * is generous and the byte budget is what bounds memory.
   */
  public static final int CAPACITY = 24;
  /** Default limit on the bytes of all plans of one graph. */
  public static final long BUDGET_BYTES = 2L << 30;

  private final SameDiff sd;
  private final String what;
  private final int capacity;
  private final long budget;
  private final LinkedHashMap<String, GraphPlan> plans = new LinkedHashMap<>(16, 0.75f, true);
  /** Shapes whose plans were dropped for bytes, not count: asked for again, they show the budget thrashing. */
  private final java.util.Set<String> droppedForBytes = new java.util.HashSet<>();
  private String sessionOnly;
  private boolean transientPlans;
  private int builds;
  private OpTimes times;

  /**
   * @param sd the graph to run (for training, its gradient function)
   * @param what names the graph in log lines
   */
  public PlanCache(SameDiff sd, String what, int capacity, long budgetBytes) {
    this.sd = sd;
    this.what = what;
    this.capacity = capacity;
    this.budget = budgetBytes;
  }

  public PlanCache(SameDiff sd, String what) {
    this(sd, what, CAPACITY, BUDGET_BYTES);
  }

  /**
   * The requested outputs for {@code feed} through a plan, or null when this graph runs through SameDiff's session
   * (then the caller calls the session). The arrays belong to the plan until its next call.
   */
  public Map<String, INDArray> run(Map<String, INDArray> feed, List<String> outputs) {
    if (sessionOnly != null) return null;
    if (!sd.getListeners().isEmpty()) return null; // listeners (profilers) see ops only through the session
    String key = GraphPlan.signature(feed) + outputs;
    GraphPlan p = plans.get(key);
    if (p != null) {
      Map<String, INDArray> r = p.run(feed);
      if (transientPlans) p.release();
      return r;
    }
    try {
      p = GraphPlan.build(sd, feed, outputs); // runs the graph once
    } catch (GraphPlan.Unsupported e) {
      sessionOnly = e.getMessage();
      LOG.info("{}: runs through SameDiff's session ({})", what, e.getMessage());
      return null;
    }
    builds++;
    p.timeOps(times);
    Map<String, INDArray> out = new LinkedHashMap<>();
    for (String o : outputs) out.put(o, p.outputArray(o));
    if (!transientPlans && p.pooledBytes() > budget) {
      // Too large to keep allocated between calls: from now on this graph's plans free their buffers after each
      // call (all but the requested outputs) and allocate them again on the next, as the session does per call.
      transientPlans = true;
      for (GraphPlan q : plans.values()) q.release();
      LOG.info("{}: one plan needs {} MiB (budget {} MiB): plans release their buffers between calls", what,
          p.pooledBytes() >> 20, budget >> 20);
    }
    if (!transientPlans && droppedForBytes.contains(key)) {
      // A shape dropped to stay within the budget is back: the shapes in rotation do not fit allocated together, and
      // keeping two or three of them allocated means building the others again and again, each build one call at the
      // session's cost (the bge teacher's MLM pass: 328 builds in 400 steps). Released plans cost their outputs only,
      // so from now on every shape keeps its plan and allocates its buffers per call instead.
      transientPlans = true;
      for (GraphPlan q : plans.values()) q.release();
      LOG.info("{}: plan shapes in rotation exceed the budget ({} MiB): plans release their buffers between calls "
          + "instead of being rebuilt", what, budget >> 20);
    }
    if (transientPlans) p.release();
    plans.put(key, p);
    long total = 0;
    for (GraphPlan q : plans.values()) total += resident(q);
    Iterator<Map.Entry<String, GraphPlan>> it = plans.entrySet().iterator();
    while ((plans.size() > capacity || total > budget) && plans.size() > 1) {
      Map.Entry<String, GraphPlan> e = it.next();
      if (plans.size() <= capacity) droppedForBytes.add(e.getKey());
      total -= resident(e.getValue());
      it.remove();
    }
    return out;
  }

  /** Bytes a kept plan holds between calls. */
  private long resident(GraphPlan q) {
    return transientPlans ? q.outputBytes() : q.pooledBytes();
  }

  /** Whether this graph's plans free their buffers between calls (one plan exceeded the budget). */
  public boolean releasesBetweenCalls() {
    return transientPlans;
  }

  /**
   * The requested outputs for {@code feed}: through a plan ({@link #run}), or SameDiff's {@code output} where this
   * graph runs through the session. Read or copy the arrays before the next call: a plan's are its own.
   */
  public Map<String, INDArray> output(Map<String, INDArray> feed, List<String> outputs) {
    Map<String, INDArray> r = run(feed, outputs);
    return r != null ? r : sd.output(feed, outputs.toArray(new String[0]));
  }

  /**
   * From the next call on, the time of every op of this graph's plans goes to {@code t} (null: untimed). A plan's
   * first call, which builds it, is not timed: it runs through the session.
   */
  public void timeOps(OpTimes t) {
    times = t;
    for (GraphPlan p : plans.values()) p.timeOps(t);
  }

  /** Why this graph runs through the session, or null while it runs through plans. */
  public String sessionOnly() {
    return sessionOnly;
  }

  /** Plans built so far (each build is one call at session cost). */
  public int builds() {
    return builds;
  }

  /** Plans currently kept. */
  public int size() {
    return plans.size();
  }
}
