package org.m3ae.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.bytedeco.javacpp.Pointer;
import org.m3ae.distill.DistillTask;
import org.m3ae.distill.PretrainGraph;
import org.m3ae.model.ModelConfig;
import org.m3ae.model.ModelConfigLoader;
import org.m3ae.train.GradientGraph;
import org.m3ae.train.Trainer;
import org.nd4j.autodiff.listeners.At;
import org.nd4j.autodiff.listeners.BaseListener;
import org.nd4j.autodiff.listeners.Operation;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.dataset.api.MultiDataSet;

/**
 * Where a pre-training step's memory goes (docs/performance.md): process physical bytes before the first gradient
 * call, after every op of one pass's call (summed output bytes per op type, the largest outputs), and after each pass
 * of whole steps. Random weights, one synthetic pair.
 *
 * <pre>
 * java -Xmx3g -Dorg.bytedeco.javacpp.maxphysicalbytes=21G -cp target/m3ae-distill.jar org.m3ae.bench.PassMemoryProfile \
 *     configs/models/teacher-m3ae.yaml [pass index 0|1|2, "steps", "time" [steps] or "arrays"]
 * </pre>
 */
public final class PassMemoryProfile {
  private PassMemoryProfile() {}

  public static void main(String[] args) {
    ModelConfig cfg = ModelConfigLoader.load(Path.of(args[0]));
    String what = args.length > 1 ? args[1] : "0";
    System.out.printf("start: %s%n", where());
    PretrainGraph g = new PretrainGraph(cfg, null, null,
        Map.of("mlm", 1.0, "mim", 1.0, "itm", 1.0, "hid", 1.0, "attn", 1.0), true);
    System.out.printf("training graph built: %s%n", where());
    DistillTask task = new DistillTask(g, null, DistillTask.MaskSource.RANDOM, cfg.mim().maskRatio(), 0.95, 0.3, 100, 1, true);
    task.gradientGraphs();
    System.out.printf("pass graphs built: %s%n", where());
    for (GradientGraph x : task.gradientGraphs()) Trainer.buildGradientFunction(x.sd());
    System.gc();
    System.out.printf("%s: graphs built, %s%n", cfg.name(), where());
    if (what.equals("arrays")) {
      java.util.Set<Long> seen = new java.util.HashSet<>();
      List<SameDiff> graphs = new ArrayList<>();
      graphs.add(g.sd());
      for (GradientGraph x : task.gradientGraphs()) {
        graphs.add(x.sd());
        graphs.add(x.sd().getFunction("grad"));
      }
      for (SameDiff sd : graphs) {
        Map<String, long[]> byType = new TreeMap<>();
        for (var v : sd.variables()) {
          INDArray a = v.getArr();
          if (a == null || a.isEmpty()) continue;
          long[] t = byType.computeIfAbsent(v.getVariableType().name(), k -> new long[3]);
          long bytes = a.data().length() * a.dataType().width();
          t[0] += bytes;
          if (seen.add(a.data().address())) t[1] += bytes;
          t[2]++;
        }
        System.out.printf("graph %d ops:%n", sd.getOps().size());
        byType.forEach((k, t) -> System.out.printf("  %-12s %6d arrays, %.3f GB, of which not seen in an earlier graph %.3f GB%n", k, t[2], gb(t[0]), gb(t[1])));
      }
      Runtime rt = Runtime.getRuntime();
      System.out.printf("heap committed %.2f GB%n", gb(rt.totalMemory()));
      for (int i = 0; i < 3; i++) {
        System.gc();
        try {
          Thread.sleep(2000); // ND4J frees native buffers on its deallocator thread, after the collector finds them
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      System.out.printf("after 3 × (System.gc(), 2 s): %s%n", where());
      return;
    }
    if (what.equals("time")) {
      OpProfiler prof = new OpProfiler();
      for (GradientGraph x : task.gradientGraphs()) x.sd().addListeners(prof);
      int steps = args.length > 2 ? Integer.parseInt(args[2]) : 2;
      for (int step = 0; step < steps; step++) { // step 0 warms up
        var batch = TrainerStepFactory.synthetic(cfg, 1, step);
        long tf = System.nanoTime();
        Map<String, INDArray> feed = task.feed(batch, step, 0);
        System.out.printf("step %d feed (dropout masks, MIM remask): %.0f ms%n", step, (System.nanoTime() - tf) / 1e6);
        prof.reset();
        long t0 = System.nanoTime();
        for (GradientGraph x : task.gradientGraphs()) {
          long t = System.nanoTime();
          task.weightGradients(x.compute(feed, PretrainGraph::lossVariableOf).gradients(), feed);
          System.out.printf("step %d %s: %.0f ms%n", step, x.lossKeys().get(0), (System.nanoTime() - t) / 1e6);
        }
        double wall = (System.nanoTime() - t0) / 1e6;
        System.out.printf("step %d: %.0f ms wall, %.0f ms inside %d ops (%.0f%%)%n", step, wall, prof.totalMs(),
            prof.opsExecuted(), 100 * prof.totalMs() / wall);
      }
      prof.rows().stream().limit(16).forEach(r -> System.out.printf("  %-24s %6d calls %9.1f ms%n", r.op(), r.calls(), r.ms()));
      return;
    }
    if (what.equals("steps")) {
      for (int step = 0; step < 2; step++) {
        Map<String, INDArray> feed = task.feed(TrainerStepFactory.synthetic(cfg, 1, step), step, 0);
        Map<String, INDArray> grads = new HashMap<>();
        for (GradientGraph x : task.gradientGraphs()) {
          Trainer.addInto(grads, task.weightGradients(x.compute(feed, PretrainGraph::lossVariableOf).gradients(), feed), 1);
          String after = where();
          System.gc();
          System.out.printf("step %d, after %s: %s; after System.gc(): %s%n", step, x.lossKeys().get(0), after, where());
        }
      }
      return;
    }
    GradientGraph pass = task.gradientGraphs().get(Integer.parseInt(what));
    List<Object[]> ops = new ArrayList<>();
    BaseListener listener = new BaseListener() {
      @Override
      public boolean isActive(Operation op) {
        return true;
      }

      @Override
      public void opExecution(SameDiff sd, At at, MultiDataSet batch, SameDiffOp op, OpContext ctx, INDArray[] out) {
        long bytes = 0;
        for (INDArray o : out) if (o != null) bytes += o.length() * o.dataType().width();
        ops.add(new Object[] {op.getName(), op.getOp().opName(), bytes, Pointer.physicalBytes()});
      }
    };
    pass.sd().addListeners(listener);
    if (pass.sd().getFunction("grad") != null) pass.sd().getFunction("grad").addListeners(listener);
    long before = Pointer.physicalBytes();
    Map<String, INDArray> feed = task.feed(TrainerStepFactory.synthetic(cfg, 1, 1), 0, 0);
    pass.compute(feed, PretrainGraph::lossVariableOf);
    long peak = ops.stream().mapToLong(r -> (long) r[3]).max().orElse(before);
    System.out.printf("%s pass: %d ops, physical %.2f GB before, peak %.2f GB, after %.2f GB%n", pass.lossKeys().get(0),
        ops.size(), gb(before), gb(peak), gb(Pointer.physicalBytes()));
    Map<String, long[]> byType = new TreeMap<>();
    for (Object[] r : ops) {
      long[] v = byType.computeIfAbsent((String) r[1], k -> new long[2]);
      v[0]++;
      v[1] += (long) r[2];
    }
    byType.entrySet().stream().sorted((x, y) -> Long.compare(y.getValue()[1], x.getValue()[1])).limit(12)
        .forEach(e -> System.out.printf("  %-24s %5d ops, outputs %.2f GB%n", e.getKey(), e.getValue()[0], gb(e.getValue()[1])));
    ops.sort((x, y) -> Long.compare((long) y[2], (long) x[2]));
    for (int i = 0; i < Math.min(5, ops.size()); i++) {
      System.out.printf("  largest output: %s [%s] %.1f MB%n", ops.get(i)[0], ops.get(i)[1], (long) ops.get(i)[2] / 1e6);
    }
  }

  /** Resident set, JavaCPP-tracked native bytes (ND4J's buffers) and used heap. */
  private static String where() {
    Runtime rt = Runtime.getRuntime();
    return String.format("physical %.2f GB (native buffers %.2f GB, heap %.2f GB)", gb(Pointer.physicalBytes()),
        gb(Pointer.totalBytes()), gb(rt.totalMemory() - rt.freeMemory()));
  }

  private static double gb(long bytes) {
    return bytes / 1e9;
  }
}
