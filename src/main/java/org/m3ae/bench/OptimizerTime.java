package org.m3ae.bench;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.javacpp.Pointer;
import org.m3ae.distill.PretrainGraph;
import org.m3ae.model.ModelConfig;
import org.m3ae.model.ModelConfigLoader;
import org.m3ae.train.AdamW;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The AdamW update alone, over every trainable parameter of a model's pre-training graph, with random gradients:
 * wall time per step and process physical memory after it (docs/performance.md, change 9). The gradients are drawn
 * before each timed update, since the update consumes them.
 *
 * <pre>
 * java -Xmx3g -cp target/m3ae-distill.jar org.m3ae.bench.OptimizerTime configs/models/teacher-m3ae.yaml [steps]
 * </pre>
 */
public final class OptimizerTime {
  private OptimizerTime() {}

  public static void main(String[] args) {
    ModelConfig cfg = ModelConfigLoader.load(Path.of(args[0]));
    int steps = args.length > 1 ? Integer.parseInt(args[1]) : 6;
    PretrainGraph g = new PretrainGraph(cfg, null, null, Map.of("mlm", 1.0, "mim", 1.0, "itm", 1.0), true);
    Map<String, INDArray> params = new LinkedHashMap<>();
    long n = 0;
    for (String name : g.trainable()) {
      INDArray w = g.sd().getArrForVarName(name);
      params.put(name, w);
      n += w.length();
    }
    System.gc();
    System.out.printf("%s: %,d parameters in %d arrays, physical %.2f GB%n", cfg.name(), n, params.size(),
        Pointer.physicalBytes() / 1e9);
    AdamW adam = new AdamW(new AdamW.Settings(0.9, 0.98, 1e-6, 0.01));
    Nd4j.getRandom().setSeed(0);
    for (int s = 0; s < steps; s++) {
      Map<String, INDArray> grads = new LinkedHashMap<>();
      for (var e : params.entrySet()) grads.put(e.getKey(), Nd4j.randn(e.getValue().dataType(), e.getValue().shape()).muli(1e-3));
      long t0 = System.nanoTime();
      adam.step(params, grads, name -> 1e-4);
      double secs = (System.nanoTime() - t0) / 1e9;
      grads = null;
      System.gc();
      System.out.printf("step %d: AdamW %.2f s, physical after %.2f GB%n", s, secs, Pointer.physicalBytes() / 1e9);
    }
  }
}
