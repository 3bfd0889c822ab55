package org.m3ae.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.m3ae.bench.Bench;
import org.m3ae.bench.BenchReport;
import org.m3ae.bench.Peer;
import org.m3ae.bench.TrainSteps;
import org.m3ae.train.Executor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code bench}: the paper's Table 5 on this machine (see docs/performance.md). */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = "Time inference, CPU latency and training steps of full-size models with random weights; speedups vs "
        + "the first model (the teacher), GFLOP/s vs an sgemm ceiling measured in the same run, peak memory.")
public final class BenchCommand implements Callable<Integer> {
  @Option(names = "--from-json", description = "Print the tables of a report saved with --json instead of measuring.")
  Path fromJson;

  @Option(names = "--models", split = ",",
      description = "Model configs, the teacher first (its distillation targets and the speedup reference).")
  List<Path> models;

  @Option(names = "--batch", defaultValue = "4", description = "Inference batch (default ${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--train-batch", defaultValue = "1", description = "Training-step batch (default ${DEFAULT-VALUE}).")
  int trainBatch;

  @Option(names = "--repeats", defaultValue = "3", description = "Timed repeats after warm-up; the median is reported (default ${DEFAULT-VALUE}).")
  int repeats;

  @Option(names = "--warmup", defaultValue = "1", description = "Untimed inference runs before the timed ones (default ${DEFAULT-VALUE}).")
  int warmup;

  // A process's first training steps are slower than its later ones (the teacher's gradient calls: 44, 37, 28, 25, 23,
  // 22 s for steps 0-5; docs/performance.md), so one warm-up step would time a start-up cost, not a training loop.
  @Option(names = "--train-warmup", defaultValue = "4", description = "Untimed training steps before the timed ones (default ${DEFAULT-VALUE}).")
  int trainWarmup;

  @Option(names = "--image-size", defaultValue = "288", description = "Image size in pixels, 0 = the config's (default ${DEFAULT-VALUE}).")
  int imageSize;

  @Option(names = "--text-len", defaultValue = "64", description = "Text length in tokens, 0 = the config's (default ${DEFAULT-VALUE}).")
  int textLen;

  @Option(names = "--no-train", description = "Skip training steps.")
  boolean noTrain;

  @Option(names = "--no-latency", description = "Skip batch-1 latency.")
  boolean noLatency;

  @Option(names = "--no-gc", description = "Do not call System.gc() after each training step.")
  boolean noGc;

  @Option(names = "--sgemm-size", defaultValue = "2048", description = "Square sgemm size for the ceiling (default ${DEFAULT-VALUE}).")
  int sgemmSize;

  @Option(names = "--profile", description = "Also time the ops of one inference forward and of the timed training steps, per op type (inside a replayed plan, or through a SameDiff listener with --executor session).")
  boolean profile;

  @Option(names = "--train-step", defaultValue = "trainer",
      description = "trainer: the project's full step (DistillTask + AdamW, one backward per pass); joint: the same with one backward over all passes; grad: forward+backward only (default ${DEFAULT-VALUE}).")
  String trainStep;

  @Option(names = "--executor", defaultValue = "plan",
      description = "plan: inference and training steps replayed from execution plans (the trainer's default); session: "
          + "SameDiff's own session on every call, as before plans (default ${DEFAULT-VALUE}).")
  String executor;

  @Option(names = "--json", description = "Print the report as JSON (progress goes to stderr).")
  boolean json;

  @Option(names = "--peer",
      description = "Run the same models in PyTorch (scripts/peer/m3ae_peer.py) right after each model's Java figures, "
          + "with the same weights, shapes and thread count, and print PyTorch's figures, the ratios and max |Java − PyTorch| "
          + "beside them. Without torch it says how to install it and runs without the peer.")
  boolean peer;

  @Option(names = "--python", defaultValue = "/usr/bin/python3",
      description = "Python of the peer, with torch (default ${DEFAULT-VALUE}: Debian's python3-torch).")
  Path python;

  @Option(names = "--peer-script", defaultValue = "scripts/peer/m3ae_peer.py",
      description = "The peer script (default ${DEFAULT-VALUE}, relative to the working directory).")
  Path peerScript;

  @Option(names = "--peer-dir",
      description = "Keep the files handed to the peer (weights, inputs, its outputs) under DIR/<model> instead of deleting them.")
  Path peerDir;

  @Option(names = "--peer-threads", defaultValue = "0",
      description = "torch threads of the peer (default: as many cores as the Java side uses, the larger of --threads and --blas-threads).")
  int peerThreads;

  @Override
  public Integer call() throws java.io.IOException {
    if (fromJson != null) {
      BenchReport saved = new com.fasterxml.jackson.databind.ObjectMapper().readValue(fromJson.toFile(), BenchReport.class);
      System.out.println(json ? saved.toJson() : saved.toTable());
      return 0;
    }
    if (models == null || models.isEmpty()) throw new IllegalArgumentException("--models is required (or --from-json)");
    Executor exec = switch (executor) {
      case "plan" -> Executor.PLAN;
      case "session" -> Executor.SESSION;
      default -> throw new IllegalArgumentException("--executor: 'plan' or 'session', not '" + executor + "'");
    };
    var opt = Bench.Options.defaults(models).withBatches(batch, trainBatch).withRepeats(repeats, warmup, trainWarmup)
        .withInputs(imageSize, textLen).withParts(true, !noLatency, !noTrain).withGcEachStep(!noGc).withSgemmSize(sgemmSize)
        .withProfile(profile).withExecutor(exec);
    Peer.Settings peerSettings = peer ? new Peer.Settings(python, peerScript, peerDir, peerThreads) : null;
    BenchReport r = new Bench(opt, TrainSteps.named(trainStep, exec), System.err, peerSettings).run();
    System.out.println(json ? r.toJson() : r.toTable());
    return 0;
  }
}
