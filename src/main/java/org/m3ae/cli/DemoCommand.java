package org.m3ae.cli;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.m3ae.distill.PretrainRun;
import org.m3ae.model.BuildOptions;
import org.m3ae.model.M3aeGraph;
import org.m3ae.model.M3aeModel;
import org.m3ae.model.ModelConfig;
import org.m3ae.model.Names;
import org.m3ae.model.Pass;
import org.m3ae.model.RandomInputs;
import org.m3ae.tasks.DemoFinetune;
import org.m3ae.tasks.ItmAccuracy;
import org.m3ae.train.RunConfig;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code demo}: the embedded default a fresh clone runs. On the synthetic set (no files outside the repository) it
 * pre-trains the teacher, distils the student from it (initialised from teacher layers, hidden + attention KD,
 * attention-guided mask), trains the same student without KD from scratch for the same steps, fine-tunes all three on
 * synthetic VQA, and prints one table: VQA accuracy, ITM accuracy, parameters, inference speed, and each student's
 * share of the teacher's accuracy, with the majority baseline as a row. Settings were chosen on the val splits; the
 * test splits are scored once, here.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Pre-train a teacher, distil a student (KD + attention-guided MIM), train the same student without "
        + "KD, fine-tune all three on synthetic VQA and compare them with the majority baseline. Embedded synthetic data.")
public final class DemoCommand implements Callable<Integer> {
  static final Path TEACHER_RUN = Path.of("configs/runs/teacher-synth.yaml");
  static final Path DISTILL_RUN = Path.of("configs/runs/distill-synth.yaml");
  static final Path NO_KD_RUN = Path.of("configs/runs/student-synth-nokd.yaml");

  @Spec CommandSpec spec;

  @Option(names = "--out", defaultValue = "runs/demo", description = "Directory for the runs (default ${DEFAULT-VALUE}).")
  Path out;

  @Option(names = "--teacher-steps", description = "Teacher pre-training steps (default: teacher-synth.yaml's).")
  Integer teacherSteps;

  @Option(names = "--student-steps", description = "Student steps, with and without KD (default: distill-synth.yaml's).")
  Integer studentSteps;

  @Option(names = "--finetune-steps", defaultValue = "800", description = "VQA fine-tuning steps per model (default ${DEFAULT-VALUE}).")
  int finetuneSteps;

  @Option(names = "--no-finetune", description = "Stop after pre-training.")
  boolean noFinetune;

  @Option(names = "--resume", description = "Continue each run from its last complete checkpoint in --out.")
  boolean resume;

  @Option(names = "--parallel", defaultValue = "2",
      description = "Runs at once, 1 or 2 (default ${DEFAULT-VALUE}). Each run is single-threaded (one thread is the "
          + "fastest setting for these models, docs/performance.md), so two independent runs use both cores of a "
          + "2-core machine.")
  int parallel;

  @Override
  public Integer call() {
    if (parallel < 1 || parallel > 2) throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--parallel must be 1 or 2, got " + parallel);
    PrintStream o = System.out;
    long t0 = System.nanoTime();
    RunConfig tc = RunConfig.load(TEACHER_RUN);
    RunConfig nc = RunConfig.load(NO_KD_RUN);
    RunConfig loaded = RunConfig.load(DISTILL_RUN);
    Map<String, Map<String, Double>> vqa = new ConcurrentHashMap<>();
    CompletableFuture<PretrainRun.Result> teacher = new CompletableFuture<>();

    // Two lanes of dependent runs. The distilled student needs the teacher; the undistilled student needs nothing, so
    // its lane starts at once and fine-tunes the teacher when that lane gets there. With --parallel 1 lane B queues
    // behind lane A and the runs happen one after another.
    ExecutorService pool = Executors.newFixedThreadPool(parallel);
    CompletableFuture<Lane> laneA = CompletableFuture.supplyAsync(() -> {
      PretrainRun.Result t;
      try {
        t = PretrainRun.run(tc, TEACHER_RUN, out.resolve("teacher"), teacherSteps, resume, List.of(), prefixed(o, "teacher"));
        teacher.complete(t);
      } catch (RuntimeException | Error e) {
        teacher.completeExceptionally(e);
        throw e;
      }
      RunConfig sc = loaded.withTeacherWeights(t.weights().toString());
      PretrainRun.Result s = PretrainRun.run(sc, DISTILL_RUN, out.resolve("student-kd"), studentSteps, resume, List.of(), prefixed(o, "student-kd"));
      if (!noFinetune) vqa.put(KD, finetune(KD, sc, s, o));
      return new Lane(sc, s);
    }, pool);
    CompletableFuture<Lane> laneB = CompletableFuture.supplyAsync(() -> {
      PretrainRun.Result p = PretrainRun.run(nc, NO_KD_RUN, out.resolve("student-nokd"), studentSteps, resume, List.of(), prefixed(o, "student-nokd"));
      if (!noFinetune) {
        vqa.put(NO_KD, finetune(NO_KD, nc, p, o));
        vqa.put(TEACHER, finetune(TEACHER, tc, teacher.join(), o));
        vqa.put("majority", DemoFinetune.majority(out.resolve("vqa-majority")));
      }
      return new Lane(nc, p);
    }, pool);
    Lane a, b;
    try {
      a = laneA.join();
      b = laneB.join();
    } catch (CompletionException e) {
      // the run's own error (a bad config names its file and key), not the executor's wrapper
      if (e.getCause() instanceof RuntimeException r) throw r;
      throw e;
    } finally {
      pool.shutdownNow();
    }
    List<Row> rows = List.of(new Row(TEACHER, tc, teacher.join()), new Row(KD, a.cfg(), a.run()), new Row(NO_KD, b.cfg(), b.run()));

    o.println();
    o.println("| synthetic test split | VQA open | VQA closed | VQA overall | share of teacher | ITM acc | parameters | ms/pair |");
    o.println("|---|---:|---:|---:|---:|---:|---:|---:|");
    double teacherOverall = vqa.isEmpty() ? Double.NaN : vqa.get("teacher").get("overall");
    for (Row r : rows) {
      ModelConfig m = ModelConfig.load(Path.of(r.cfg.model()));
      // ITM accuracy on the synthetic test split (fixed pairs, seed 0)
      ItmAccuracy.Result itm = ItmAccuracy.evaluate(m, r.run.weights(), Path.of(r.cfg.data().pipeline()), r.cfg.data().root(),
          "test", 32, 0);
      Map<String, Double> v = vqa.getOrDefault(r.label, Map.of());
      o.printf(Locale.ROOT, "| %s (%s) | %s | %s | %s | %s | %.1f %% | %,d | %.2f |%n", r.label, m.name(), pct(v, "open"),
          pct(v, "closed"), pct(v, "overall"), v.isEmpty() ? "–" : String.format(Locale.ROOT, "%.0f %%",
              100 * v.get("overall") / teacherOverall), 100 * itm.accuracy(), r.run.parameters(), inferenceMsPerPair(m));
    }
    if (!vqa.isEmpty()) {
      Map<String, Double> maj = vqa.get("majority");
      o.printf(Locale.ROOT, "| majority answer (train) | %s | %s | %s | %.0f %% | 50.0 %% (chance) | – | – |%n", pct(maj, "open"),
          pct(maj, "closed"), pct(maj, "overall"), 100 * maj.get("overall") / teacherOverall);
    }
    o.printf("%ndemo finished in %.1f min; runs in %s (metrics.jsonl, checkpoints, model.safetensors, model.sdz)%n",
        (System.nanoTime() - t0) / 60e9, out);
    return 0;
  }

  private record Row(String label, RunConfig cfg, PretrainRun.Result run) {}

  private record Lane(RunConfig cfg, PretrainRun.Result run) {}

  static final String TEACHER = "teacher", KD = "student, distilled", NO_KD = "student, no KD";

  private Map<String, Double> finetune(String label, RunConfig rc, PretrainRun.Result r, PrintStream o) {
    DemoFinetune.Model m = new DemoFinetune.Model(label, rc.model(), r.weights());
    String dir = "vqa-" + m.slug();
    return DemoFinetune.finetuneAndScore(m, finetuneSteps, out.resolve(dir), prefixed(o, dir));
  }

  /** A stream that writes whole lines to {@code target}, each prefixed with the run's name, so two runs' logs interleave by line. */
  static PrintStream prefixed(PrintStream target, String name) {
    return new PrintStream(new OutputStream() {
      private final ByteArrayOutputStream line = new ByteArrayOutputStream();

      @Override
      public void write(int c) {
        if (c != '\n') {
          line.write(c);
          return;
        }
        String text = line.toString(StandardCharsets.UTF_8);
        line.reset();
        synchronized (target) {
          target.println("[" + name + "] " + text);
        }
      }
    }, true, StandardCharsets.UTF_8);
  }

  private static String pct(Map<String, Double> m, String key) {
    return m.containsKey(key) ? String.format(Locale.ROOT, "%.1f", 100 * m.get(key)) : "–";
  }

  /** Median ms per pair of the joint-feature forward at batch 8, random weights (speed does not depend on them). */
  static double inferenceMsPerPair(ModelConfig c) {
    M3aeGraph g = M3aeModel.build(c, BuildOptions.defaults());
    Pass p = g.pass("");
    Map<String, INDArray> in = RandomInputs.forPass(g, p, 8, 1);
    double[] ms = new double[6];
    for (int r = 0; r < ms.length; r++) {
      long t = System.nanoTime();
      g.sd().output(in, Names.JOINT);
      ms[r] = (System.nanoTime() - t) / 1e6 / 8;
    }
    double[] timed = java.util.Arrays.copyOfRange(ms, 1, ms.length);
    java.util.Arrays.sort(timed);
    return timed[timed.length / 2];
  }
}
