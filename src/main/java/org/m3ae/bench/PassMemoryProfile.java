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
 *     configs/models/teacher-m3ae.yaml [pass index 0|1|2, or "steps"]
 * </pre>
 */
public final class PassMemoryProfile {
  private PassMemoryProfile() {}

  public static void main(String[] args) {
    ModelConfig cfg = ModelConfigLoader.load(Path.of(args[0]));
    String what = args.length > 1 ? args[1] : "0";
    PretrainGraph g = new PretrainGraph(cfg, null, null,
        Map.of("mlm", 1.0, "mim", 1.0, "itm", 1.0, "hid", 1.0, "attn", 1.0), true);
    DistillTask task = new DistillTask(g, null, DistillTask.MaskSource.RANDOM, cfg.mim().maskRatio(), 0.95, 0.3, 100, 1, true);
    for (GradientGraph x : task.gradientGraphs()) Trainer.buildGradientFunction(x.sd());
    System.out.printf("%s: graphs built, physical %.2f GB%n", cfg.name(), gb(Pointer.physicalBytes()));
    if (what.equals("steps")) {
      for (int step = 0; step < 2; step++) {
        Map<String, INDArray> feed = task.feed(TrainerStepFactory.synthetic(cfg, 1, step), step, 0);
        Map<String, INDArray> grads = new HashMap<>();
        for (GradientGraph x : task.gradientGraphs()) {
          Trainer.addInto(grads, task.weightGradients(x.compute(feed, PretrainGraph.LOSSES::get).gradients(), feed), 1);
          long after = Pointer.physicalBytes();
          System.gc();
          System.out.printf("step %d, after %s: physical %.2f GB, %.2f GB after System.gc()%n", step,
              x.lossKeys().get(0), gb(after), gb(Pointer.physicalBytes()));
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
    pass.compute(feed, PretrainGraph.LOSSES::get);
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

  private static double gb(long bytes) {
    return bytes / 1e9;
  }
}
