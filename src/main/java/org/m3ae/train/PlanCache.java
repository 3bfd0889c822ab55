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
 * <p>A graph falls back to SameDiff's session for good when it cannot be planned ({@link GraphPlan.Unsupported}) or
 * when one plan's buffers exceed the budget: a plan keeps its forward + backward live set allocated between calls,
 * which a full-size model cannot afford once per pass (the session frees it after each call). The call that found the
 * plan too large still uses that plan's results, so no work is repeated.
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
  private String sessionOnly;
  private int builds;

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
    if (p != null) return p.run(feed);
    try {
      p = GraphPlan.build(sd, feed, outputs); // runs the graph once
    } catch (GraphPlan.Unsupported e) {
      sessionOnly = e.getMessage();
      LOG.info("{}: runs through SameDiff's session ({})", what, e.getMessage());
      return null;
    }
    builds++;
    Map<String, INDArray> out = new LinkedHashMap<>();
    for (String o : outputs) out.put(o, p.outputArray(o));
    if (p.pooledBytes() > budget) {
      sessionOnly = "one plan needs " + p.pooledBytes() / (1 << 20) + " MiB, budget " + budget / (1 << 20) + " MiB";
      plans.clear();
      LOG.info("{}: runs through SameDiff's session from the next call ({})", what, sessionOnly);
      return out;
    }
    plans.put(key, p);
    long total = 0;
    for (GraphPlan q : plans.values()) total += q.pooledBytes();
    Iterator<GraphPlan> it = plans.values().iterator();
    while ((plans.size() > capacity || total > budget) && plans.size() > 1) {
      total -= it.next().pooledBytes();
      it.remove();
    }
    return out;
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
