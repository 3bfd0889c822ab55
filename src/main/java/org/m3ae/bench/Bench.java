package org.m3ae.bench;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.m3ae.model.BuildOptions;
import org.m3ae.model.M3aeGraph;
import org.m3ae.model.M3aeModel;
import org.m3ae.model.ModelConfig;
import org.m3ae.model.Names;
import org.m3ae.model.ParameterCount;
import org.m3ae.model.Pass;
import org.m3ae.model.RandomInputs;
import org.m3ae.train.Executor;
import org.m3ae.train.OpTimes;
import org.m3ae.train.PlanCache;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Measures the models of one run on this machine: inference throughput of the joint feature at batch B, latency at
 * batch 1, training steps (through a {@link TrainStepFactory}), peak memory, achieved GFLOP/s against an sgemm
 * ceiling measured in the same run. The first model is the reference (the teacher): speedups are relative to it and
 * the others' distillation steps use it as their teacher.
 */
public final class Bench {
  /**
   * What to run. {@code imageSize}/{@code textLen} 0 keep the configs' values. Start from {@link #defaults} and change
   * what differs with the {@code with…} methods.
   */
  public record Options(
      List<Path> models, int batch, int trainBatch, int repeats, int warmup, int trainWarmup, int imageSize, int textLen,
      boolean inference, boolean latency, boolean train, boolean gcEachStep, int sgemmSize, boolean profile,
      Executor executor) {

    /** Batch 4 inference, batch 1 training, 3 repeats after 1 warm-up (4 for training), 288 px / 64 tokens,
     * inference + latency + training, a collection per step, a 2048 sgemm, no profile, replayed plans. */
    public static Options defaults(List<Path> models) {
      return new Options(models, 4, 1, 3, 1, 4, 288, 64, true, true, true, true, 2048, false, Executor.PLAN);
    }

    public Options withBatches(int inference, int training) {
      return new Options(models, inference, training, repeats, warmup, trainWarmup, imageSize, textLen, this.inference,
          latency, train, gcEachStep, sgemmSize, profile, executor);
    }

    /** Timed repeats, warm-up runs before inference and before training. */
    public Options withRepeats(int repeats, int warmup, int trainWarmup) {
      return new Options(models, batch, trainBatch, repeats, warmup, trainWarmup, imageSize, textLen, inference, latency,
          train, gcEachStep, sgemmSize, profile, executor);
    }

    /** Input sizes; 0 keeps a config's own. */
    public Options withInputs(int imageSize, int textLen) {
      return new Options(models, batch, trainBatch, repeats, warmup, trainWarmup, imageSize, textLen, inference, latency,
          train, gcEachStep, sgemmSize, profile, executor);
    }

    /** Which measurements run. */
    public Options withParts(boolean inference, boolean latency, boolean train) {
      return new Options(models, batch, trainBatch, repeats, warmup, trainWarmup, imageSize, textLen, inference, latency,
          train, gcEachStep, sgemmSize, profile, executor);
    }

    public Options withGcEachStep(boolean gcEachStep) {
      return new Options(models, batch, trainBatch, repeats, warmup, trainWarmup, imageSize, textLen, inference, latency,
          train, gcEachStep, sgemmSize, profile, executor);
    }

    public Options withSgemmSize(int sgemmSize) {
      return new Options(models, batch, trainBatch, repeats, warmup, trainWarmup, imageSize, textLen, inference, latency,
          train, gcEachStep, sgemmSize, profile, executor);
    }

    public Options withProfile(boolean profile) {
      return new Options(models, batch, trainBatch, repeats, warmup, trainWarmup, imageSize, textLen, inference, latency,
          train, gcEachStep, sgemmSize, profile, executor);
    }

    public Options withExecutor(Executor executor) {
      return new Options(models, batch, trainBatch, repeats, warmup, trainWarmup, imageSize, textLen, inference, latency,
          train, gcEachStep, sgemmSize, profile, executor);
    }
  }

  private final Options opt;
  private final TrainStepFactory trainFactory;
  private final Consumer<String> log;
  private final Peer.Settings peerSettings;
  private Peer peer; // null: no peer in this run (not asked for, or not available)

  public Bench(Options opt, TrainStepFactory trainFactory, PrintStream progress) {
    this(opt, trainFactory, progress, null);
  }

  /** @param peer the PyTorch peer to run beside every model ({@link Peer}), null for none */
  public Bench(Options opt, TrainStepFactory trainFactory, PrintStream progress, Peer.Settings peer) {
    this.opt = opt;
    this.trainFactory = trainFactory;
    this.log = progress == null ? s -> {} : progress::println;
    this.peerSettings = peer;
  }

  /** Applies the run's image size and text length to a config (the paper's 288 px, 64 tokens by default). */
  public static ModelConfig resize(ModelConfig c, int imageSize, int textLen) {
    var v = c.vision();
    var t = c.text();
    var nv = imageSize > 0 ? new ModelConfig.Vision(imageSize, v.patchSize(), v.channels(), v.encoder()) : v;
    var nt = textLen > 0
        ? new ModelConfig.Text(t.vocabSize(), t.maxPositions(), t.typeVocabSize(), t.padTokenId(), t.positionIds(), textLen, t.encoder())
        : t;
    return new ModelConfig(c.name(), nv, nt, c.fusion(), c.mim(), c.mlm(), c.itm(), c.init());
  }

  public BenchReport run() {
    List<ModelConfig> cfgs = new ArrayList<>();
    for (Path p : opt.models()) cfgs.add(resize(ModelConfig.load(p), opt.imageSize(), opt.textLen()));
    BenchReport.Environment env = BenchReport.Environment.capture();
    log.accept("environment: " + env);
    String peerNote = null;
    if (peerSettings != null) {
      Peer candidate = new Peer(peerSettings, log);
      Peer.Availability a = candidate.probe();
      if (a.ok()) {
        peer = candidate;
        peerNote = a.description() + ", " + peerThreads(env) + " torch thread(s)"
            + (peerSettings.threads() > 0 ? " (--peer-threads)" : " (as many as the Java side uses)");
      } else {
        peerNote = "not available, running without it: " + a.description();
      }
      log.accept("peer: " + peerNote);
    }

    int sgemmRepeats = Math.max(10, opt.repeats()); // the ceiling is a median: the same count at the start and the end
    Sgemm.Result before = Sgemm.measure(opt.sgemmSize(), opt.sgemmSize(), opt.sgemmSize(), sgemmRepeats);
    log.accept(String.format("sgemm %d³: %.1f GFLOP/s (median), %.1f best", opt.sgemmSize(), before.gflops(), before.bestGflops()));

    List<BenchReport.ModelResult> results = new ArrayList<>();
    ModelConfig teacher = cfgs.get(0);
    for (int i = 0; i < cfgs.size(); i++) {
      results.add(measureModel(cfgs.get(i), i == 0 ? null : teacher, i, peerThreads(env)));
      collect();
    }
    Sgemm.Result after = Sgemm.measure(opt.sgemmSize(), opt.sgemmSize(), opt.sgemmSize(), sgemmRepeats);
    log.accept(String.format("sgemm %d³ again: %.1f GFLOP/s", opt.sgemmSize(), after.gflops()));
    return new BenchReport(opt, trainFactory == null ? null : trainFactory.name(), env, before, after, results,
        BenchReport.Environment.currentLoad(), peerNote);
  }

  /**
   * The peer's torch threads: {@code --peer-threads}, or as many cores as the Java side may use (the larger of its op
   * and BLAS threads); torch has one intra-op pool for both.
   */
  private int peerThreads(BenchReport.Environment env) {
    if (peerSettings != null && peerSettings.threads() > 0) return peerSettings.threads();
    int n = Math.max(env.ompThreads(), env.blasThreads());
    return n > 0 ? n : env.cpus();
  }

  /**
   * @param index position in {@code opt.models()}: the peer reads the same file, and models after the first are
   *     distilled from the first
   */
  private BenchReport.ModelResult measureModel(ModelConfig c, ModelConfig teacher, int index, int peerThreads) {
    long t0 = System.nanoTime();
    M3aeGraph g = M3aeModel.build(c, BuildOptions.defaults());
    Pass p = g.pass("");
    double buildS = (System.nanoTime() - t0) / 1e9;
    long params = ParameterCount.of(g).total();
    int ops = g.sd().ops().length;
    log.accept(String.format("%s: inference graph built in %.1f s, %,d parameters, %d ops", c.name(), buildS, params, ops));

    BenchReport.Measurement latency = null, inference = null, train = null;
    List<BenchReport.OpRow> profile = null;
    if (opt.latency()) {
      latency = timeForward(g, p, 1, c, "latency (batch 1)");
    }
    if (opt.inference()) {
      inference = opt.batch() == 1 && latency != null ? latency : timeForward(g, p, opt.batch(), c, "inference (batch " + opt.batch() + ")");
    }
    if (opt.profile()) profile = profileForward(g, p, opt.batch(), c);
    // The peer's files and the Java outputs it is compared with, while the graph is alive; the peer itself runs after
    // the Java training figures, so that both stacks are timed back to back on the same machine state.
    Peer.Handoff handoff = null;
    PeerResult peerResult = null;
    if (peer != null) {
      try {
        handoff = peer.handoff(g, p, Math.min(opt.batch(), 2), c.init().seed() + 7);
      } catch (java.io.IOException | RuntimeException e) {
        peerResult = PeerResult.failed("cannot hand the model over: " + e, 0);
        log.accept("  peer: " + peerResult.error());
      }
    }
    g = null;
    p = null;
    collect();

    String trainWhat = null;
    List<BenchReport.OpRow> trainProfile = null;
    long trainFlops = teacher == null ? FlopCount.pretrainStep(c) : FlopCount.distillStep(c, teacher);
    if (opt.train() && trainFactory != null) {
      try (TrainStep step = teacher == null
          ? trainFactory.pretrain(c, opt.trainBatch(), c.init().seed())
          : trainFactory.distill(c, teacher, opt.trainBatch(), c.init().seed())) {
        trainWhat = step.description();
        train = timeSteps(step::run, step.batch(), trainFlops, "train (batch " + step.batch() + ")", opt.gcEachStep(),
            opt.trainWarmup());
        if (opt.profile()) trainProfile = profileTrain(step);
      }
    }
    if (handoff != null) {
      collect();
      try (Peer.Handoff h = handoff) {
        peerResult = peer.run(h, opt.models().get(index), teacher == null ? null : opt.models().get(0), opt,
            opt.train() && trainFactory != null, peerThreads);
      }
      logPeer(peerResult, params, inference, latency, train);
    }
    return new BenchReport.ModelResult(c.name(), params, ops, buildS, FlopCount.inference(c), trainFlops,
        FlopCount.pass(c, FlopCount.PassKind.INFERENCE).modules(), latency, inference, train, trainWhat, profile,
        trainProfile, peerResult);
  }

  private void logPeer(PeerResult r, long params, BenchReport.Measurement inference, BenchReport.Measurement latency,
      BenchReport.Measurement train) {
    if (r.error() != null) {
      log.accept("  peer failed: " + r.error());
      if (r.torch() == null) return;
    }
    log.accept(String.format("  Java ÷ PyTorch: inference %s, latency %s, train %s; parameters %s; max |Java − PyTorch| %s",
        BenchReport.ratioText(PeerResult.ratio(inference, r.inference())), BenchReport.ratioText(PeerResult.ratio(latency, r.latency())),
        BenchReport.ratioText(PeerResult.ratio(train, r.train())),
        r.backboneParameters() == params ? "equal" : String.format("differ (%,d vs %,d)", params, r.backboneParameters()),
        r.maxAbsDiff() == null ? "–" : String.format("%.1e (worst: %s)", r.maxDiff(), r.worstTensor())));
  }

  private BenchReport.Measurement timeForward(M3aeGraph g, Pass p, int batch, ModelConfig c, String what) {
    Map<String, INDArray> in = RandomInputs.forPass(g, p, batch, c.init().seed());
    String out = p.name(Names.JOINT);
    if (opt.executor() == Executor.SESSION) {
      return timeSteps(() -> g.sd().output(in, out), batch, FlopCount.inference(c), what, false, opt.warmup());
    }
    PlanCache plans = new PlanCache(g.sd(), what);
    List<String> outs = List.of(out);
    return timeSteps(() -> plans.output(in, outs), batch, FlopCount.inference(c), what, false, opt.warmup());
  }

  /**
   * One forward at batch {@code batch}, timed per op: through a plan (each native call timed) with the plan executor,
   * through SameDiff's session and a listener with {@code --executor session}. The gap between the wall time and the
   * time inside ops is the executor's own.
   */
  private List<BenchReport.OpRow> profileForward(M3aeGraph g, Pass p, int batch, ModelConfig c) {
    Map<String, INDArray> in = RandomInputs.forPass(g, p, batch, c.init().seed());
    List<String> out = List.of(p.name(Names.JOINT));
    OpTimes times;
    Runnable call;
    if (opt.executor() == Executor.SESSION) {
      OpProfiler prof = new OpProfiler();
      times = prof.times();
      call = () -> g.sd().output(in, List.of(prof), out.toArray(new String[0]));
    } else {
      PlanCache plans = new PlanCache(g.sd(), "profile");
      plans.output(in, out); // builds the plan (a session call)
      times = new OpTimes();
      plans.timeOps(times);
      call = () -> plans.output(in, out);
    }
    call.run(); // warm
    times.reset();
    long t = System.nanoTime();
    call.run();
    return opRows("profile, forward at batch " + batch, (System.nanoTime() - t) / 1e6, times, 1);
  }

  /**
   * {@code repeats} more training steps with the gradient calls timed per op (the figures are per step). The feed,
   * the task's own forwards and the update are outside the ops counted, inside the wall time.
   */
  private List<BenchReport.OpRow> profileTrain(TrainStep step) {
    OpTimes times = new OpTimes();
    if (!step.timeOps(times)) {
      log.accept("  train profile: this step cannot time its ops (executor " + opt.executor() + ")");
      return null;
    }
    int n = Math.max(1, opt.repeats());
    long t = System.nanoTime();
    for (int i = 0; i < n; i++) {
      step.run();
    }
    double wall = (System.nanoTime() - t) / 1e6;
    step.timeOps(null);
    return opRows("profile, training step (gradient calls)", wall, times, n);
  }

  /** The rows of a profile per call ("(wall)" first), with the first dozen logged. */
  private List<BenchReport.OpRow> opRows(String what, double wallMs, OpTimes times, int calls) {
    log.accept(String.format("  %s: %.0f ms wall, %.0f ms inside %d ops (%.0f%%)", what, wallMs / calls,
        times.totalMs() / calls, times.opsExecuted() / calls, 100 * times.totalMs() / wallMs));
    List<BenchReport.OpRow> rows = new ArrayList<>();
    rows.add(new BenchReport.OpRow("(wall)", 1, wallMs / calls));
    for (OpTimes.Row r : times.rows()) {
      rows.add(new BenchReport.OpRow(r.op(), r.calls() / calls, r.ms() / calls));
      if (rows.size() <= 16) log.accept(String.format("    %-24s %6d calls %9.1f ms", r.op(), r.calls() / calls, r.ms() / calls));
    }
    return rows;
  }

  /** Warm-up, then timed repeats with memory sampled throughout; off-heap after each repeat shows growth. */
  private BenchReport.Measurement timeSteps(Runnable r, int batch, long flopsPerPair, String what, boolean gc,
      int warmup) {
    for (int w = 0; w < warmup; w++) {
      r.run();
      if (gc) System.gc();
    }
    double[] ms = new double[opt.repeats()];
    double[] cpu = new double[opt.repeats()];
    long[] physAfter = new long[opt.repeats()];
    MemorySampler.Peak peak;
    try (MemorySampler mem = new MemorySampler(5)) {
      for (int i = 0; i < ms.length; i++) {
        long t = System.nanoTime();
        long c = cpuNanos();
        r.run();
        if (gc) System.gc();
        ms[i] = (System.nanoTime() - t) / 1e6;
        cpu[i] = (cpuNanos() - c) / 1e6;
        physAfter[i] = org.bytedeco.javacpp.Pointer.physicalBytes();
      }
      peak = mem.peak();
    }
    Stats s = Stats.of(ms);
    var m = new BenchReport.Measurement(batch, s, Stats.of(cpu), flopsPerPair, peak, physAfter);
    log.accept(String.format("  %-22s median %.0f ms (min %.0f, max %.0f): %.3f pairs/s, %.1f ms/pair, %.1f GFLOP/s, "
        + "CPU %.1f× wall, peak physical %.2f GB, after each repeat %s GB", what, s.medianMs(), s.minMs(), s.maxMs(),
        m.pairsPerSecond(), m.msPerPair(), m.gflops(), m.cpuShare(), peak.physicalBytes() / 1e9, gb(physAfter)));
    return m;
  }

  private static String gb(long[] b) {
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; i < b.length; i++) sb.append(i == 0 ? "" : ", ").append(String.format("%.2f", b[i] / 1e9));
    return sb.append("]").toString();
  }

  /** CPU time of the whole process (all threads, OpenMP workers included). */
  private static long cpuNanos() {
    var os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    return os instanceof com.sun.management.OperatingSystemMXBean s ? s.getProcessCpuTime() : 0;
  }

  private static void collect() {
    System.gc();
    try {
      Thread.sleep(100);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    Nd4j.getMemoryManager().invokeGc();
  }
}
