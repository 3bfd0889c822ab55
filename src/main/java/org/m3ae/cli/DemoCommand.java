package org.m3ae.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
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
import picocli.CommandLine.Option;

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

  @Option(names = "--out", defaultValue = "runs/demo", description = "Directory for the runs (default ${DEFAULT-VALUE}).")
  Path out;

  @Option(names = "--teacher-steps", description = "Teacher pre-training steps (default: teacher-synth.yaml's).")
  Integer teacherSteps;

  @Option(names = "--student-steps", description = "Student steps, with and without KD (default: distill-synth.yaml's).")
  Integer studentSteps;

  @Option(names = "--finetune-steps", defaultValue = "400", description = "VQA fine-tuning steps per model (default ${DEFAULT-VALUE}).")
  int finetuneSteps;

  @Option(names = "--no-finetune", description = "Stop after pre-training.")
  boolean noFinetune;

  @Option(names = "--resume", description = "Continue each run from its last complete checkpoint in --out.")
  boolean resume;

  @Override
  public Integer call() {
    PrintStream o = System.out;
    long t0 = System.nanoTime();
    RunConfig tc = RunConfig.load(TEACHER_RUN);
    PretrainRun.Result teacher = PretrainRun.run(tc, TEACHER_RUN, out.resolve("teacher"), teacherSteps, resume, List.of(), o);

    RunConfig sc = RunConfig.load(DISTILL_RUN);
    sc = new RunConfig(sc.name(), sc.model(), new RunConfig.Teacher(sc.teacher().model(), teacher.weights().toString()),
        sc.studentInit(), sc.data(), sc.train(), sc.objectives(), sc.kd(), sc.mask());
    PretrainRun.Result student = PretrainRun.run(sc, DISTILL_RUN, out.resolve("student-kd"), studentSteps, resume, List.of(), o);
    RunConfig nc = RunConfig.load(NO_KD_RUN);
    PretrainRun.Result plain = PretrainRun.run(nc, NO_KD_RUN, out.resolve("student-nokd"), studentSteps, resume, List.of(), o);

    List<Row> rows = List.of(
        new Row("teacher", tc, teacher),
        new Row("student, distilled", sc, student),
        new Row("student, no KD", nc, plain));
    Map<String, Map<String, Double>> vqa = noFinetune ? Map.of() : DemoFinetune.run(
        rows.stream().map(r -> new DemoFinetune.Model(r.label, r.cfg.model(), r.run.weights())).toList(), finetuneSteps, o);

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
