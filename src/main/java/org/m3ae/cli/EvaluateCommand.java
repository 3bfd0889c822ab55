package org.m3ae.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.m3ae.tasks.Evaluation;
import org.m3ae.tasks.TaskConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "evaluate", mixinStandardHelpOptions = true,
    description = "Score a fine-tuned model on a split: VQA open/closed/overall accuracy, classification accuracy, or retrieval "
        + "R@1/5/10 in both directions; writes results.json and results.md.")
public final class EvaluateCommand implements Callable<Integer> {
  @Option(names = "--config", required = true, description = "The task run config the model was fine-tuned with.")
  Path config;

  @Option(names = "--checkpoint", required = true, description = "Fine-tuned weights (model.safetensors of a finetune run) or the run "
      + "directory; a torch.save file (.ckpt/.pt/.pth/.bin) is read like safetensors.")
  Path checkpoint;

  @Option(names = "--split", defaultValue = "test", description = "Split to score (default ${DEFAULT-VALUE}).")
  String split;

  @Option(names = "--out", description = "Directory for results.json / results.md (default: beside the checkpoint, results-<split>/).")
  Path out;

  @Option(names = "--rerank-k", description = "Retrieval: also score with the fast top-k re-ranking mode and compare its recall.")
  Integer rerankK;

  @Option(names = "--max-pairs", defaultValue = "0", description = "Retrieval: score only the first N pairs of the split (0 = all).")
  int maxPairs;

  @Option(names = "--image-controls", description = "VQA: also score the same model with each question shown another "
      + "question's image (seeded) and with a blank image: whether its answers read the image at all.")
  boolean imageControls;

  @Option(names = "--baseline", description = "VQA: also score the majority-answer baseline (per answer type, from train).")
  boolean baseline;

  @Override
  public Integer call() {
    TaskConfig tc = TaskConfig.load(config);
    Evaluation.Report r = Evaluation.run(tc, checkpoint, split, out, rerankK, maxPairs, baseline, imageControls, System.out);
    System.out.print(r.markdown());
    System.out.println("→ " + r.resultsJson());
    return 0;
  }
}
