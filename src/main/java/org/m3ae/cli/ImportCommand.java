package org.m3ae.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.m3ae.model.ModelConfig;
import org.m3ae.weights.WeightImport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code import}: pretrained weights (a torch.save checkpoint, safetensors or ONNX) into a model's graph, saved. */
@Command(name = "import", mixinStandardHelpOptions = true,
    description = "Build a model graph, load a checkpoint into it (official M3AE keys or a BERT-family text "
        + "encoder), report loaded/missing/unused like PyTorch strict=False, and save the graph with its weights.")
public final class ImportCommand implements Callable<Integer> {
  @Option(names = "--config", description = "Model config YAML (configs/models/*.yaml); required for M3AE checkpoints. "
      + "Default for a BERT-family file: its text encoder inferred from the file, around --base-config.")
  Path config;

  @Option(names = "--base-config", defaultValue = InferredConfig.DEFAULT_BASE,
      description = "Without --config: vision, fusion and heads around the inferred text encoder (default ${DEFAULT-VALUE}).")
  Path baseConfig;

  @Option(names = "--heads", description = "Attention heads, when neither a config.json nor the ONNX graph tells them.")
  Integer heads;

  @Option(names = "--ln-eps", description = "LayerNorm epsilon, when neither a config.json nor the ONNX graph tells it.")
  Double lnEps;

  @Option(names = "--weights", required = true, description = "A torch.save checkpoint (.ckpt/.pt/.pth/.bin, e.g. the "
      + "official m3ae.ckpt, read directly), .safetensors or .onnx.")
  Path weights;

  @Option(names = "--out", required = true, description = "Graph with weights to write (.sdz; .safetensors for graphs above ~1 GiB, "
      + "such as the full teacher).")
  Path out;

  @Option(names = "--verbose", description = "List every loaded variable with its source key and transform.")
  boolean verbose;

  @Override
  public Integer call() {
    ModelConfig cfg = InferredConfig.resolve(config, weights, baseConfig, heads, lnEps, System.out);
    WeightImport.Result r = WeightImport.run(cfg, weights, out, null);
    r.report().print(System.out, verbose);
    System.out.printf("build_ms=%d load_ms=%d save_ms=%d peak_rss_mb=%s%n", r.buildMs(), r.loadMs(), r.saveMs(),
        PeakMemory.rssMb());
    System.out.println("saved " + out);
    return 0;
  }
}
