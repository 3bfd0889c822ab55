package org.m3ae.demo;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
import org.m3ae.train.PlanCache;
import org.m3ae.train.RunConfig;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The embedded default a fresh clone runs ({@code demo}), on the synthetic set (no files outside the repository):
 * pre-train the teacher, distil the student from it (initialised from teacher layers, hidden + attention KD,
 * attention-guided mask), train the same student without KD from scratch for the same steps, fine-tune all three on
 * synthetic VQA, and score them once on the test split beside the majority answer ({@link DemoReport}). Every setting
 * was chosen on the val splits (docs/training.md).
 */
public final class Demo {
  public static final Path TEACHER_RUN = Path.of("configs/runs/teacher-synth.yaml");
  public static final Path DISTILL_RUN = Path.of("configs/runs/distill-synth.yaml");
  public static final Path NO_KD_RUN = Path.of("configs/runs/student-synth-nokd.yaml");

  static final String TEACHER = "teacher", KD = "student, distilled", NO_KD = "student, no KD";

  /**
   * @param teacherSteps teacher pre-training steps, null: teacher-synth.yaml's
   * @param studentSteps student steps with and without KD, null: distill-synth.yaml's
   * @param finetuneSteps VQA fine-tuning steps per model; 0: stop after pre-training
   * @param parallel runs at once, 1 or 2
   */
  public record Options(Path out, Integer teacherSteps, Integer studentSteps, int finetuneSteps, boolean resume,
      int parallel) {
    public Options {
      if (parallel < 1 || parallel > 2) throw new IllegalArgumentException("parallel must be 1 or 2, got " + parallel);
      if (finetuneSteps < 0) throw new IllegalArgumentException("finetune steps must be ≥ 0, got " + finetuneSteps);
    }
  }

  private Demo() {}

  public static DemoReport run(Options opt, PrintStream o) {
    long t0 = System.nanoTime();
    RunConfig tc = RunConfig.load(TEACHER_RUN);
    RunConfig nc = RunConfig.load(NO_KD_RUN);
    RunConfig loaded = RunConfig.load(DISTILL_RUN);
    boolean finetune = opt.finetuneSteps() > 0;
    Map<String, Map<String, Double>> vqa = new ConcurrentHashMap<>();
    CompletableFuture<PretrainRun.Result> teacher = new CompletableFuture<>();
    Path out = opt.out();

    // Two lanes of dependent runs. The distilled student needs the teacher; the undistilled student needs nothing, so
    // its lane starts at once and fine-tunes the teacher when that lane gets there. With parallel 1 lane B queues
    // behind lane A and the runs happen one after another.
    ExecutorService pool = Executors.newFixedThreadPool(opt.parallel());
    CompletableFuture<Lane> laneA = CompletableFuture.supplyAsync(() -> {
      PretrainRun.Result t;
      try {
        t = PretrainRun.run(tc, TEACHER_RUN, out.resolve("teacher"), opt.teacherSteps(), opt.resume(), List.of(),
            prefixed(o, "teacher"));
        teacher.complete(t);
      } catch (RuntimeException | Error e) {
        teacher.completeExceptionally(e);
        throw e;
      }
      RunConfig sc = loaded.withTeacherWeights(t.weights().toString());
      PretrainRun.Result s = PretrainRun.run(sc, DISTILL_RUN, out.resolve("student-kd"), opt.studentSteps(), opt.resume(),
          List.of(), prefixed(o, "student-kd"));
      if (finetune) vqa.put(KD, finetune(KD, sc, s, opt, o));
      return new Lane(sc, s);
    }, pool);
    CompletableFuture<Lane> laneB = CompletableFuture.supplyAsync(() -> {
      PretrainRun.Result p = PretrainRun.run(nc, NO_KD_RUN, out.resolve("student-nokd"), opt.studentSteps(), opt.resume(),
          List.of(), prefixed(o, "student-nokd"));
      if (finetune) {
        vqa.put(NO_KD, finetune(NO_KD, nc, p, opt, o));
        vqa.put(TEACHER, finetune(TEACHER, tc, teacher.join(), opt, o));
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

    List<DemoReport.Row> rows = new ArrayList<>();
    for (Lane l : List.of(new Lane(tc, teacher.join()), a, b)) {
      String label = l == a ? KD : l == b ? NO_KD : TEACHER;
      ModelConfig m = ModelConfig.load(Path.of(l.cfg().model()));
      // ITM accuracy on the synthetic test split (fixed pairs, seed 0)
      ItmAccuracy.Result itm = ItmAccuracy.evaluate(m, l.run().weights(), Path.of(l.cfg().data().pipeline()),
          l.cfg().data().root(), "test", 32, 0);
      rows.add(new DemoReport.Row(label, m.name(), vqa.getOrDefault(label, Map.of()), itm.accuracy(), l.run().parameters(),
          inferenceMsPerPair(m)));
    }
    return new DemoReport(rows, vqa.get("majority"), (System.nanoTime() - t0) / 60e9, out);
  }

  private record Lane(RunConfig cfg, PretrainRun.Result run) {}

  private static Map<String, Double> finetune(String label, RunConfig rc, PretrainRun.Result r, Options opt, PrintStream o) {
    DemoFinetune.Model m = new DemoFinetune.Model(label, rc.model(), r.weights());
    String dir = "vqa-" + m.slug();
    return DemoFinetune.finetuneAndScore(m, opt.finetuneSteps(), opt.out().resolve(dir), prefixed(o, dir));
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

  /**
   * Median ms per pair of the joint-feature forward at batch 8, random weights (speed does not depend on them),
   * through a replayed plan as every evaluation here runs.
   */
  static double inferenceMsPerPair(ModelConfig c) {
    M3aeGraph g = M3aeModel.build(c, BuildOptions.defaults());
    Pass p = g.pass("");
    Map<String, INDArray> in = RandomInputs.forPass(g, p, 8, 1);
    PlanCache plans = new PlanCache(g.sd(), "demo timing");
    List<String> joint = List.of(p.name(Names.JOINT));
    double[] ms = new double[6];
    for (int r = 0; r < ms.length; r++) {
      long t = System.nanoTime();
      plans.output(in, joint);
      ms[r] = (System.nanoTime() - t) / 1e6 / 8;
    }
    double[] timed = java.util.Arrays.copyOfRange(ms, 1, ms.length); // the first call builds the plan
    java.util.Arrays.sort(timed);
    return timed[timed.length / 2];
  }
}
