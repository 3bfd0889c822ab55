package org.m3ae.weights;

import java.io.File;
import java.io.PrintStream;
import java.nio.file.Path;
import org.m3ae.model.BuildOptions;
import org.m3ae.model.M3aeGraph;
import org.m3ae.model.M3aeModel;
import org.m3ae.model.ModelConfig;
import org.m3ae.model.PassSpec;

/**
 * The {@code import} pipeline: build the configured graph with its random initialisation, map a
 * checkpoint into it, save it. Variables the checkpoint lacks keep that initialisation, as fresh
 * heads do under PyTorch's {@code strict=False} load (SPEC §4). Updater state is not saved: a
 * graph saved by SameDiff must stay under 2 GB (docs/weights.md).
 */
public final class WeightImport {
  private WeightImport() {}

  public record Result(M3aeGraph graph, LoadReport report, long buildMs, long loadMs, long saveMs) {}

  /**
   * The configured model with the inference pass ("") and the pre-training heads in the passes
   * SPEC §2.1 runs them in: "mlm_itm" (full image, MLM and ITM heads) and "mim" (visible patches).
   */
  public static M3aeGraph withPretrainingHeads(ModelConfig cfg) {
    M3aeGraph g = M3aeModel.build(cfg, BuildOptions.defaults());
    g.addPass(PassSpec.inference().withName("mlm_itm").withHeads(PassSpec.Head.MLM, PassSpec.Head.ITM));
    g.addPass(PassSpec.inference().withName("mim").withHeads(PassSpec.Head.MIM));
    return g;
  }

  public static Result run(ModelConfig cfg, Path weights, Path out, PrintStream log) {
    long t0 = System.nanoTime();
    M3aeGraph g = withPretrainingHeads(cfg);
    long t1 = System.nanoTime();
    LoadReport report;
    try (TensorSource src = TensorSources.open(weights)) {
      report = WeightLoader.load(g.sd(), src, TensorSources.keyMapFor(src));
    }
    long t2 = System.nanoTime();
    if (log != null) report.print(log, false);
    long saveMs = 0;
    if (out != null) {
      g.sd().save(new File(out.toString()), false);
      saveMs = (System.nanoTime() - t2) / 1_000_000;
    }
    return new Result(g, report, (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000, saveMs);
  }
}
