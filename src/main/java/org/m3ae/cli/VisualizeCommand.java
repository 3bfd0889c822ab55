package org.m3ae.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.m3ae.tasks.TaskConfig;
import org.m3ae.tasks.Visualizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "visualize", mixinStandardHelpOptions = true,
    description = "PNGs of what a fine-tuned model attends to: text→image attention over the scan (paper Fig. 6), random vs "
        + "attention-guided MIM masks (Fig. 4), PCA of image/text/joint embeddings (Fig. 5).")
public final class VisualizeCommand implements Callable<Integer> {
  @Option(names = "--config", required = true, description = "The task run config the model was fine-tuned with.")
  Path config;

  @Option(names = "--checkpoint", required = true, description = "Fine-tuned weights (model.safetensors) or the run directory.")
  Path checkpoint;

  @Option(names = "--split", defaultValue = "test", description = "Split to draw examples from (default ${DEFAULT-VALUE}).")
  String split;

  @Option(names = "-n", defaultValue = "6", description = "Attention and mask figures to draw (default ${DEFAULT-VALUE}).")
  int n;

  @Option(names = "--r", defaultValue = "0.5", description = "Share r of the mask drawn from the least-attended patches (default ${DEFAULT-VALUE}).")
  double r;

  @Option(names = "--out", required = true, description = "Output directory for the PNGs.")
  Path out;

  @Override
  public Integer call() {
    Visualizer.run(TaskConfig.load(config), checkpoint, split, n, r, out, System.out);
    return 0;
  }
}
