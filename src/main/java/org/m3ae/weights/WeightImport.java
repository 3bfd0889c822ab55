package org.m3ae.weights;

import java.io.File;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.function.Supplier;
import org.m3ae.model.BuildOptions;
import org.m3ae.model.M3aeGraph;
import org.m3ae.model.M3aeModel;
import org.m3ae.model.ModelConfig;
import org.m3ae.model.PassSpec;

/**
 * The {@code import} pipeline: build the configured graph with its random initialisation, map a
 * checkpoint into it, save it. Variables the checkpoint lacks keep that initialisation, as fresh
 * heads do under PyTorch's {@code strict=False} load (SPEC §4). Graphs above ~1 GiB cannot be
 * SameDiff files ({@link GraphWeights}); they are written as graph-layout safetensors.
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

  /** {@code .safetensors}: graph-layout weights; otherwise a SameDiff graph file, if it can hold them. */
  public static void save(M3aeGraph g, Path out) {
    if (out.getFileName().toString().endsWith(".safetensors")) {
      GraphWeights.write(g.sd(), out, g.config().name());
      return;
    }
    long bytes = GraphWeights.trainableBytes(g.sd());
    if (bytes > GraphWeights.SDZ_LIMIT_BYTES) {
      throw new WeightsException(out + ": '" + g.config().name() + "' holds " + bytes / (1 << 20)
          + " MiB of weights; SameDiff 1.0.0-M2.1 cannot save a graph above ~1 GiB (FlatBuffers limit). "
          + "Write --out <name>.safetensors instead (graph-layout weights; load them with "
          + "`import --config <same yaml> --weights <name>.safetensors`)");
    }
    g.sd().save(new File(out.toString()), false);
  }

  /**
   * Any weights file as a source in graph layout, which {@link StudentInit} reads: a graph-layout
   * file as it is; anything else (the official M3AE .ckpt, converted safetensors) imported into
   * the graph of {@code config} (asked for only then) first, which must then lack nothing.
   */
  public static TensorSource graphLayoutSource(Path weights, Supplier<ModelConfig> config, PrintStream log) {
    TensorSource src = TensorSources.open(weights);
    KeyMap map = TensorSources.keyMapFor(src);
    if (map instanceof GraphKeyMap) return src;
    ModelConfig cfg;
    try {
      cfg = config.get();
    } catch (RuntimeException e) {
      src.close();
      throw e;
    }
    M3aeGraph g = withPretrainingHeads(cfg);
    LoadReport r;
    try (src) {
      r = WeightLoader.load(g.sd(), src, map);
    }
    if (!r.missing().isEmpty()) {
      String k = r.missing().keySet().iterator().next();
      throw new WeightsException(weights + ": lacks " + r.missing().size() + " variables of " + cfg.name() + ", e.g. '"
          + k + "' (" + r.missing().get(k) + "): is it a checkpoint of this model config?");
    }
    if (log != null) log.println("imported " + weights + " into " + cfg.name() + ": " + r.summary());
    return new SameDiffSource(g.sd(), weights.toString());
  }

  public static Result run(ModelConfig cfg, Path weights, Path out, PrintStream log) {
    long t0 = System.nanoTime();
    M3aeGraph g = withPretrainingHeads(cfg);
    if (out != null && !out.getFileName().toString().endsWith(".safetensors")
        && GraphWeights.trainableBytes(g.sd()) > GraphWeights.SDZ_LIMIT_BYTES) {
      save(g, out); // fails fast with the explanation, before the load
    }
    long t1 = System.nanoTime();
    LoadReport report;
    try (TensorSource src = TensorSources.open(weights)) {
      report = WeightLoader.load(g.sd(), src, TensorSources.keyMapFor(src));
    }
    long t2 = System.nanoTime();
    if (log != null) report.print(log, false);
    long saveMs = 0;
    if (out != null) {
      save(g, out);
      saveMs = (System.nanoTime() - t2) / 1_000_000;
    }
    return new Result(g, report, (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000, saveMs);
  }
}
