package org.m3ae.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.m3ae.model.ModelConfig;
import org.m3ae.tasks.HeldOutEval;
import org.m3ae.tasks.ItmAccuracy;
import org.m3ae.train.RunConfig;
import org.m3ae.train.RunDir;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code evaluate-itm}: image–text matching accuracy of a pre-training run's model on a held-out split. */
@Command(name = "evaluate-itm", mixinStandardHelpOptions = true,
    description = "Score a pre-trained model's ITM head on a split of its pre-training data: half of each batch with "
        + "its own image, half with another (fixed seed); prints accuracy and loss (chance: 50 %%, ln 2 = 0.6931).")
public final class EvaluateItmCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--config", required = true, description = "The pre-training run config (configs/runs/*.yaml).")
  Path config;

  @Option(names = "--checkpoint", description = "Weights with the ITM head (default: model.safetensors of the run's "
      + "directory, runs/<name>).")
  Path checkpoint;

  @Option(names = "--split", defaultValue = "val", description = "Split to score (default ${DEFAULT-VALUE}).")
  String split;

  @Option(names = "--batch-size", defaultValue = "32", description = "Pairs per batch (default ${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--seed", defaultValue = "0", description = "Seed of the swapped images (default ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--mlm", description = "Also score the MLM head on the split's captions, masked with the run's rule "
      + "from the seed (loss in nats and top-1 accuracy over the masked tokens).")
  boolean mlm;

  @Override
  public Integer call() {
    RunConfig rc = RunConfig.load(config);
    Path weights = RunDir.weightsFor(rc.name(), checkpoint);
    if (mlm) {
      HeldOutEval.Result r = HeldOutEval.evaluate(rc, weights, split, batch, seed);
      spec.commandLine().getOut().printf(java.util.Locale.ROOT,
          "%s on %s/%s: ITM accuracy %.1f %% over %d pairs, loss %.4f (chance 50 %%, ln 2 = 0.6931); MLM loss %.4f, "
              + "accuracy %.1f %% over %d masked tokens%n",
          weights, rc.data().pipeline(), split, 100 * r.itmAccuracy(), r.itmPairs(), r.itmLoss(), r.mlmLoss(),
          100 * r.mlmAccuracy(), r.mlmTokens());
      return 0;
    }
    ModelConfig m = ModelConfig.load(Path.of(rc.model()));
    ItmAccuracy.Result r = ItmAccuracy.evaluate(m, weights, Path.of(rc.data().pipeline()), rc.data().root(), split, batch, seed);
    spec.commandLine().getOut().printf(java.util.Locale.ROOT,
        "%s on %s/%s: ITM accuracy %.1f %% over %d pairs, loss %.4f (chance 50 %%, ln 2 = 0.6931)%n",
        weights, rc.data().pipeline(), split, 100 * r.accuracy(), r.pairs(), r.loss());
    return 0;
  }
}
