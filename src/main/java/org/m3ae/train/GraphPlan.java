package org.m3ae.train;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.nd4j.autodiff.functions.DifferentialFunction;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.autodiff.samediff.internal.Variable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.BaseOp;
import org.nd4j.linalg.api.ops.CustomOp;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.Op;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.api.ops.RandomOp;
import org.nd4j.linalg.api.ops.ReduceOp;
import org.nd4j.linalg.api.ops.ScalarOp;
import org.nd4j.linalg.api.ops.BaseReduceOp;
import org.nd4j.linalg.api.ops.impl.transforms.same.Identity;
import org.nd4j.linalg.api.shape.LongShapeDescriptor;
import org.nd4j.linalg.api.shape.Shape;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A SameDiff graph scheduled once for fixed input shapes and then replayed: the ops that the requested outputs need,
 * in one topological order, each with its own {@link OpContext} whose input and output arrays are bound at build time.
 * A replay is one native call per op and nothing else.
 *
 * <p>Why (docs/performance.md, issue 14): SameDiff 1.0.0-M2.1's session re-derives the subgraph, tracks
 * dependencies in hash maps, computes every op's output shape, allocates every output and releases it again on
 * <em>every</em> call — ~0.3 ms per op, against a few µs for the small kernels of a tiny model. A training step of the
 * tiny teacher is ~6,000 ops, so the executor, not the arithmetic, sets its time.
 *
 * <p>Memory: outputs share buffers by liveness, decided once at build time. An array whose last reader has run goes
 * back to a pool of buffers of its data type and shape, and the next output of that shape takes it; requested outputs,
 * placeholders, variables and constants are never reused. The peak is the forward + backward live set, as with
 * {@link GradientCall}'s releasing session, but it stays allocated between calls.
 *
 * <p>The build runs the graph once (shape functions of ops such as reshape read values computed by earlier ops), so
 * a plan's first call costs about a session call. Variables are looked up again on every call, so a variable whose
 * array was replaced ({@code setArray}, as the batch vocabulary rows are per step) is rebound; its shape must not
 * change. Graphs with control flow, tensor arrays, random ops or invoked sub-graphs are refused
 * ({@link Unsupported}): callers fall back to SameDiff's own session.
 *
 * <p>Arrays returned by {@link #run} belong to the plan and are overwritten by its next call.
 */
public final class GraphPlan {

  /** The graph has an op this executor does not schedule; use SameDiff's session instead. */
  public static final class Unsupported extends RuntimeException {
    Unsupported(String message) {
      super(message);
    }
  }

  /** One scheduled op: its function, its context, and (legacy scalar ops) where its scalar operand lives. */
  private record Step(DifferentialFunction fn, OpContext oc, int scalarSlot, boolean custom, INDArray[] in,
      INDArray[] out) {}

  private final SameDiff sd;
  private final List<Step> steps = new ArrayList<>();
  /** Arrays by variable name: op outputs (pooled), placeholders (plan-owned copies), variables and constants. */
  private final Map<String, INDArray> arrays = new HashMap<>();
  private final Map<String, INDArray> placeholders = new LinkedHashMap<>();
  /**
   * Placeholders some scheduled op reads (or that are requested): only these are copied in on a call. A graph may
   * declare placeholders the requested outputs do not need (the dropout masks of a tower a step never runs), and
   * copying those in would be a full pass over each of them per call.
   */
  private final Set<String> placeholdersRead = new HashSet<>();
  /** Variables bound in contexts, with where: to rebind when a variable's array object was replaced. */
  private final Map<String, List<int[]>> variableUses = new HashMap<>();
  private final Map<String, INDArray> boundVariable = new HashMap<>();
  /** Identity outputs and the name whose array they pass through. */
  private final Map<String, String> root = new HashMap<>();
  private final List<String> outputs;
  private long pooledBytes;
  private int buffers;
  /** Every op-output buffer the plan allocated, and those holding requested outputs (never released). */
  private final List<INDArray> created = new ArrayList<>();
  private final List<LongShapeDescriptor> createdShapes = new ArrayList<>();
  private final Set<INDArray> kept = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
  private boolean released;
  private OpTimes times;

  private GraphPlan(SameDiff sd, List<String> outputs) {
    this.sd = sd;
    this.outputs = outputs;
  }

  /** Bytes of the op-output buffers this plan keeps (after liveness sharing). */
  public long pooledBytes() {
    return pooledBytes;
  }

  /** The array of output {@code name} as the last call left it (owned by the plan). */
  public INDArray outputArray(String name) {
    INDArray a = arrays.get(name);
    if (a == null || !outputs.contains(name)) throw new IllegalArgumentException("'" + name + "' is no output of this plan");
    return a;
  }

  /** Number of scheduled ops. */
  public int ops() {
    return steps.size();
  }

  /** Number of distinct output buffers after liveness sharing. */
  public int buffers() {
    return buffers;
  }

  /**
   * The shape signature of a feed: a plan serves calls whose placeholders have exactly these shapes and types.
   */
  public static String signature(Map<String, INDArray> feed) {
    StringBuilder b = new StringBuilder();
    feed.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> b.append(e.getKey()).append(':')
        .append(e.getValue().dataType()).append(Arrays.toString(e.getValue().shape())).append(';'));
    return b.toString();
  }

  /**
   * Schedules {@code sd} for the requested outputs at the shapes of {@code feed}, running it once on {@code feed}.
   *
   * @throws Unsupported when the graph needs something only SameDiff's session does
   */
  public static GraphPlan build(SameDiff sd, Map<String, INDArray> feed, Collection<String> outputs) {
    List<String> order = schedule(sd, outputs);
    Set<String> keep = new HashSet<>(outputs);

    // Last reader of every op output, in schedule positions; Identity outputs alias their input, so the alias
    // root lives as long as its longest-lived alias.
    GraphPlan plan = new GraphPlan(sd, List.copyOf(outputs));
    Map<String, String> root = plan.root;
    Map<String, Integer> lastUse = new HashMap<>();
    for (int i = 0; i < order.size(); i++) {
      SameDiffOp op = sd.getOps().get(order.get(i));
      DifferentialFunction fn = op.getOp();
      for (String in : argNames(fn)) lastUse.merge(rootOf(root, in), i, Math::max);
      if (fn instanceof Identity) root.put(op.getOutputsOfOp().get(0), rootOf(root, argNames(fn)[0]));
    }
    for (String o : outputs) keep.add(rootOf(root, o));

    for (var e : feed.entrySet()) {
      // a placeholder holds its declared type, as SameDiff's own session casts a fed array of another type
      SDVariable ph = sd.getVariable(e.getKey());
      DataType declared = ph == null || ph.dataType() == null ? e.getValue().dataType() : ph.dataType();
      INDArray own = e.getValue().castTo(declared).dup('c');
      plan.placeholders.put(e.getKey(), own);
      plan.arrays.put(e.getKey(), own);
    }
    Map<String, ArrayDeque<INDArray>> pool = new HashMap<>();
    long[] bytes = {0};
    int[] count = {0};
    for (int i = 0; i < order.size(); i++) {
      SameDiffOp sdo = sd.getOps().get(order.get(i));
      DifferentialFunction fn = sdo.getOp();
      String[] args = argNames(fn);
      INDArray[] in = new INDArray[args.length];
      for (int a = 0; a < args.length; a++) in[a] = plan.input(args[a], plan.steps.size(), a);
      List<String> outs = sdo.getOutputsOfOp();
      if (fn instanceof Identity) {
        plan.arrays.put(outs.get(0), in[0]); // pass-through, as the session does; no step (alias in root)
        continue;
      }
      if (fn instanceof RandomOp || fn.getClass().getName().startsWith("org.nd4j.linalg.api.ops.random.")) {
        // a replay would draw the same numbers on every call, or consume the RNG differently from the session
        throw new Unsupported("random op " + fn.getOwnName() + " (" + fn.opName() + ")");
      }
      OpContext oc = Nd4j.getExecutioner().buildContext();
      int scalarSlot = -1;
      boolean custom;
      if (fn instanceof CustomOp) {
        custom = true;
        DynamicCustomOp c = (DynamicCustomOp) fn;
        oc.setArgs(in, c.iArgs(), c.dArgs(), c.tArgs(), c.bArgs());
        List<LongShapeDescriptor> shapes = c.calculateOutputShape(oc);
        if (shapes == null || shapes.size() != outs.size()) {
          throw new Unsupported("op " + fn.getOwnName() + " (" + fn.opName() + "): " + (shapes == null ? 0 : shapes.size())
              + " output shapes for " + outs.size() + " outputs");
        }
        for (int o = 0; o < outs.size(); o++) {
          LongShapeDescriptor s = shapes.get(o);
          DataType dt = sd.getVariable(outs.get(o)).dataType();
          if (s.dataType() != dt) s = s.asDataType(dt); // as the session: the variable's type wins
          INDArray out = plan.take(pool, s, bytes, count);
          oc.setOutputArray(o, out);
          plan.arrays.put(outs.get(o), out);
        }
      } else if (fn instanceof Op op) {
        custom = false;
        boolean axisArg = false;
        if (op instanceof ReduceOp r && r.getOpType() != Op.Type.REDUCE3 && args.length == 2) {
          if (sd.getVariable(args[1]).getVariableType() != VariableType.CONSTANT) {
            throw new Unsupported("op " + fn.getOwnName() + ": reduction axes computed in the graph");
          }
          INDArray axes = in[1];
          if (axes.isEmpty()) throw new Unsupported("op " + fn.getOwnName() + ": empty reduction axes");
          fn.setDimensions(Shape.normalizeAxis(in[0].rank(), axes.toIntVector()));
          ((BaseReduceOp) op).setEmptyReduce(false);
          axisArg = true;
        } else if (op instanceof ScalarOp s && args.length == 2) {
          if (!in[1].isScalar()) throw new Unsupported("op " + fn.getOwnName() + ": scalar operand is not a scalar");
          s.setScalar(in[1]);
          scalarSlot = 1;
        }
        if (in.length > 0) oc.setInputArray(0, in[0]);
        if (in.length == 2 && !axisArg) oc.setInputArray(1, in[1]);
        List<LongShapeDescriptor> shapes = ((BaseOp) op).calculateOutputShape(oc);
        if (shapes == null || shapes.size() != 1) throw new Unsupported("op " + fn.getOwnName() + ": no output shape");
        INDArray out = plan.take(pool, shapes.get(0), bytes, count);
        oc.setOutputArray(0, out);
        plan.arrays.put(outs.get(0), out);
      } else {
        throw new Unsupported("op " + fn.getOwnName() + " of type " + fn.getClass().getSimpleName());
      }
      INDArray[] bound = in.clone(); // the input slots the context holds: all of a custom op's, 0 (and 1) of a legacy op's
      if (!custom) {
        for (int k = 2; k < bound.length; k++) bound[k] = null;
        if (in.length == 2 && fn instanceof ReduceOp r2 && r2.getOpType() != Op.Type.REDUCE3) bound[1] = null;
      }
      INDArray[] outArrays = new INDArray[outs.size()];
      for (int o = 0; o < outArrays.length; o++) outArrays[o] = plan.arrays.get(outs.get(o));
      Step step = new Step(fn, oc, scalarSlot, custom, bound, outArrays);
      plan.steps.add(step);
      try {
        plan.exec(step);
      } catch (RuntimeException e) {
        StringBuilder shapes = new StringBuilder();
        for (int k = 0; k < in.length; k++) {
          shapes.append(k == 0 ? "" : ", ").append(args[k]).append(' ').append(in[k].dataType())
              .append(Arrays.toString(in[k].shape()));
        }
        throw new IllegalStateException("op " + fn.getOwnName() + " (" + fn.opName() + ") failed on " + shapes, e);
      }
      // Inputs whose last reader this was go back to the pool, after the outputs were taken: an op never writes
      // into a buffer it reads.
      for (String a : new HashSet<>(Arrays.asList(args))) {
        String r = rootOf(root, a);
        if (lastUse.getOrDefault(r, -1) == i && !keep.contains(r) && isOpOutput(sd, r)) give(pool, plan.arrays.get(r));
      }
      for (String o : outs) {
        if (!lastUse.containsKey(o) && !keep.contains(o)) give(pool, plan.arrays.get(o)); // output nobody reads
      }
    }
    for (String o : outputs) {
      if (!plan.arrays.containsKey(o)) throw new IllegalArgumentException("output '" + o + "' was not computed");
    }
    for (String o : outputs) {
      plan.kept.add(plan.arrays.get(o));
      if (plan.placeholders.containsKey(rootOf(root, o))) plan.placeholdersRead.add(rootOf(root, o));
    }
    plan.pooledBytes = bytes[0];
    plan.buffers = count[0];
    return plan;
  }

  /**
   * Runs the plan on {@code feed}, whose placeholders must have the shapes it was built for ({@link #signature}).
   * The returned arrays are the plan's own: read or copy them before the next call.
   */
  public Map<String, INDArray> run(Map<String, INDArray> feed) {
    if (released) restore();
    if (feed.size() != placeholders.size()) {
      throw new IllegalArgumentException("feed has " + feed.keySet() + ", plan was built for " + placeholders.keySet());
    }
    for (var e : placeholders.entrySet()) {
      INDArray v = feed.get(e.getKey());
      if (v == null) throw new IllegalArgumentException("feed lacks placeholder '" + e.getKey() + "'");
      if (!Arrays.equals(v.shape(), e.getValue().shape())) {
        throw new IllegalArgumentException("placeholder '" + e.getKey() + "' is " + Arrays.toString(v.shape())
            + ", plan was built for " + Arrays.toString(e.getValue().shape()));
      }
      if (placeholdersRead.contains(e.getKey())) e.getValue().assign(v); // converts a fed array of another type, as at build time
    }
    for (var e : variableUses.entrySet()) {
      INDArray now = sd.getArrForVarName(e.getKey());
      if (now == boundVariable.get(e.getKey())) continue;
      INDArray was = boundVariable.get(e.getKey());
      if (!Arrays.equals(now.shape(), was.shape()) || now.dataType() != was.dataType()) {
        throw new IllegalStateException("variable '" + e.getKey() + "' changed from " + was.shapeInfoToString()
            + " to " + now.shapeInfoToString() + " after the plan was built");
      }
      for (int[] use : e.getValue()) {
        Step s = steps.get(use[0]);
        s.oc().setInputArray(use[1], now);
        if (use[1] == s.scalarSlot()) ((ScalarOp) s.fn()).setScalar(now);
      }
      boundVariable.put(e.getKey(), now);
      arrays.put(e.getKey(), now);
    }
    if (times == null) {
      for (Step s : steps) exec(s);
    } else {
      for (Step s : steps) {
        long t = System.nanoTime();
        exec(s);
        times.add(OpTimes.key(s.fn().opName(), s.out().length > 0 ? s.out()[0] : null), System.nanoTime() - t);
      }
    }
    Map<String, INDArray> out = new LinkedHashMap<>();
    for (String o : outputs) out.put(o, arrays.get(o));
    return out;
  }

  /** From the next call on, the time of every op goes to {@code t} (null: untimed, the default). */
  public void timeOps(OpTimes t) {
    times = t;
  }

  /** Bytes of the buffers holding the requested outputs (what a released plan keeps). */
  public long outputBytes() {
    long b = 0;
    for (INDArray a : kept) b += a.isEmpty() ? 0 : a.length() * a.dataType().width();
    return b;
  }

  /**
   * Frees every op-output buffer except the requested outputs' (which stay valid): the plan then holds only its
   * schedule and contexts between calls, and its next call allocates the buffers again and rebinds them. For graphs
   * whose live set is too large to keep allocated between calls (a full-size training pass).
   */
  public void release() {
    if (released) return;
    for (INDArray a : created) if (!kept.contains(a) && !a.isEmpty()) a.close();
    released = true;
  }

  private void restore() {
    Map<INDArray, INDArray> fresh = new java.util.IdentityHashMap<>();
    for (int i = 0; i < created.size(); i++) {
      INDArray a = created.get(i);
      if (kept.contains(a) || a.isEmpty()) continue;
      LongShapeDescriptor d = createdShapes.get(i); // the closed array's own shape information is gone
      INDArray b = Nd4j.createUninitialized(d.dataType(), d.getShape(), d.getOrder());
      fresh.put(a, b);
      created.set(i, b);
    }
    for (Step s : steps) {
      for (int k = 0; k < s.in().length; k++) {
        INDArray b = s.in()[k] == null ? null : fresh.get(s.in()[k]);
        if (b != null) {
          s.in()[k] = b;
          s.oc().setInputArray(k, b);
        }
      }
      for (int k = 0; k < s.out().length; k++) {
        INDArray b = fresh.get(s.out()[k]);
        if (b != null) {
          s.out()[k] = b;
          s.oc().setOutputArray(k, b);
        }
      }
    }
    arrays.replaceAll((name, a) -> fresh.getOrDefault(a, a));
    released = false;
  }

  private void exec(Step s) {
    if (s.custom()) {
      Nd4j.exec((CustomOp) s.fn(), s.oc());
    } else {
      // The operand of a legacy scalar op is read from the op object, not the context: set it again each call in
      // case SameDiff's own session ran this op since and left its own array there.
      if (s.scalarSlot() >= 0) ((ScalarOp) s.fn()).setScalar(s.oc().getInputArray(s.scalarSlot()));
      Nd4j.exec((Op) s.fn(), s.oc());
    }
  }

  /** The array for input {@code a} of the op at step {@code step}: an earlier output, a placeholder, or a variable. */
  private INDArray input(String name, int step, int slot) {
    INDArray a = arrays.get(name);
    if (a != null) {
      String r = rootOf(root, name); // a variable passed through Identity is rebound like the variable itself
      if (placeholders.containsKey(r)) placeholdersRead.add(r);
      if (boundVariable.containsKey(r)) variableUses.get(r).add(new int[] {step, slot});
      return a;
    }
    SDVariable v = sd.getVariable(name);
    if (v == null) throw new Unsupported("input '" + name + "' is no variable of the graph");
    VariableType t = v.getVariableType();
    if (t == VariableType.PLACEHOLDER) throw new IllegalArgumentException("feed lacks placeholder '" + name + "'");
    if (t != VariableType.VARIABLE && t != VariableType.CONSTANT) {
      throw new IllegalStateException("input '" + name + "' (" + t + ") used before the op computing it");
    }
    a = sd.getArrForVarName(name);
    if (a == null) throw new IllegalStateException(t + " '" + name + "' has no array");
    arrays.put(name, a);
    if (t == VariableType.VARIABLE) {
      boundVariable.put(name, a);
      variableUses.computeIfAbsent(name, k -> new ArrayList<>()).add(new int[] {step, slot});
    }
    return a;
  }

  /** Ops the outputs need, inputs before readers (depth-first post-order from the outputs). */
  static List<String> schedule(SameDiff sd, Collection<String> outputs) {
    List<String> order = new ArrayList<>();
    Set<String> done = new HashSet<>();
    Set<String> onPath = new HashSet<>();
    for (String o : outputs) {
      Variable v = sd.getVariables().get(o);
      if (v == null) throw new IllegalArgumentException("graph has no variable '" + o + "'");
      if (v.getOutputOfOp() != null) visit(sd, v.getOutputOfOp(), order, done, onPath);
    }
    return order;
  }

  private static void visit(SameDiff sd, String opName, List<String> order, Set<String> done, Set<String> onPath) {
    if (done.contains(opName)) return;
    // iterative enough for these graphs' depth (a few thousand ops): recursion depth is the longest chain
    if (!onPath.add(opName)) throw new Unsupported("cycle through op " + opName + " (control flow)");
    SameDiffOp op = sd.getOps().get(opName);
    List<String> deps = new ArrayList<>();
    if (op.getInputsToOp() != null) deps.addAll(op.getInputsToOp());
    if (op.getControlDeps() != null) deps.addAll(op.getControlDeps());
    for (String in : deps) {
      Variable v = sd.getVariables().get(in);
      if (v != null && v.getOutputOfOp() != null) visit(sd, v.getOutputOfOp(), order, done, onPath);
    }
    onPath.remove(opName);
    done.add(opName);
    order.add(opName);
  }

  private static String[] argNames(DifferentialFunction fn) {
    String[] a = fn.argNames();
    return a == null ? new String[0] : a;
  }

  private static String rootOf(Map<String, String> root, String name) {
    String r = root.get(name);
    return r == null ? name : r;
  }

  private static boolean isOpOutput(SameDiff sd, String name) {
    Variable v = sd.getVariables().get(name);
    return v != null && v.getOutputOfOp() != null;
  }

  private static String key(DataType dt, long[] shape, char order) {
    return dt + Arrays.toString(shape) + order;
  }

  private INDArray take(Map<String, ArrayDeque<INDArray>> pool, LongShapeDescriptor s, long[] bytes, int[] count) {
    ArrayDeque<INDArray> free = pool.get(key(s.dataType(), s.getShape(), s.getOrder()));
    if (free != null && !free.isEmpty()) return free.pop();
    INDArray a = s.isEmpty() ? Nd4j.empty(s.dataType())
        : Nd4j.createUninitialized(s.dataType(), s.getShape(), s.getOrder());
    created.add(a);
    createdShapes.add(s);
    bytes[0] += a.isEmpty() ? 0 : a.length() * s.dataType().width();
    count[0]++;
    return a;
  }

  private static void give(Map<String, ArrayDeque<INDArray>> pool, INDArray a) {
    if (a == null || a.isEmpty()) return;
    pool.computeIfAbsent(key(a.dataType(), a.shape(), a.ordering()), k -> new ArrayDeque<>()).push(a);
  }
}
