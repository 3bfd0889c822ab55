package org.m3ae.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
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
import org.m3ae.train.RunConfig;
import org.m3ae.train.StepMetrics;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code demo}: the embedded default a fresh clone runs. On the synthetic set (no files outside the repository) it
 * pre-trains the tiny teacher, distils the tiny student from it with KD and the attention-guided mask, fine-tunes
 * both on synthetic VQA, and prints teacher vs student side by side.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Pre-train a tiny teacher, distil a tiny student (KD + attention-guided MIM), fine-tune both on "
        + "synthetic VQA and compare them. Embedded synthetic data; a few minutes on 2 cores.")
public final class DemoCommand implements Callable<Integer> {
  @Option(names = "--out", defaultValue = "runs/demo", description = "Directory for the runs (default ${DEFAULT-VALUE}).")
  Path out;

  @Option(names = "--teacher-steps", defaultValue = "40", description = "Teacher pre-training steps (default ${DEFAULT-VALUE}).")
  int teacherSteps;

  @Option(names = "--student-steps", defaultValue = "40", description = "Distillation steps (default ${DEFAULT-VALUE}).")
  int studentSteps;

  @Option(names = "--finetune-steps", defaultValue = "30", description = "VQA fine-tuning steps per model (default ${DEFAULT-VALUE}).")
  int finetuneSteps;

  @Option(names = "--no-finetune", description = "Stop after distillation.")
  boolean noFinetune;

  @Override
  public Integer call() {
    PrintStream o = System.out;
    long t0 = System.nanoTime();
    Path teacherCfgFile = Path.of("configs/runs/teacher-tiny.yaml");
    Path studentCfgFile = Path.of("configs/runs/distill-tiny.yaml");
    RunConfig tc = RunConfig.load(teacherCfgFile);
    PretrainRun.Result teacher = PretrainRun.run(tc, teacherCfgFile, out.resolve("teacher"), teacherSteps, false, List.of(), o);

    RunConfig sc = RunConfig.load(studentCfgFile);
    sc = new RunConfig(sc.name(), sc.model(), new RunConfig.Teacher(sc.teacher().model(), teacher.weights().toString()),
        sc.studentInit(), sc.data(), sc.train(), sc.objectives(), sc.kd(), sc.mask());
    PretrainRun.Result student = PretrainRun.run(sc, studentCfgFile, out.resolve("student"), studentSteps, false, List.of(), o);

    ModelConfig tm = ModelConfig.load(Path.of(tc.model()));
    ModelConfig sm = ModelConfig.load(Path.of(sc.model()));
    double tMs = inferenceMsPerPair(tm), sMs = inferenceMsPerPair(sm);

    o.println();
    o.println("| | teacher (" + tm.name() + ") | student (" + sm.name() + ") | ratio |");
    o.println("|---|---|---|---|");
    o.printf("| trainable parameters | %,d | %,d | %.2f× smaller |%n", teacher.parameters(), student.parameters(),
        teacher.parameters() / (double) student.parameters());
    row(o, "final MLM loss", teacher.last(), student.last(), "loss_mlm");
    row(o, "final MIM loss", teacher.last(), student.last(), "loss_mim");
    row(o, "final ITM loss", teacher.last(), student.last(), "loss_itm");
    o.printf("| final KD loss (hidden / attention) | – | %.4f / %.4f | |%n", student.last().get("loss_hid"), student.last().get("loss_attn"));
    o.printf("| pre-training pairs/s (last step; student step includes the teacher forward) | %.2f | %.2f | %.2f× |%n",
        teacher.last().get("pairs_per_s"), student.last().get("pairs_per_s"),
        student.last().get("pairs_per_s") / teacher.last().get("pairs_per_s"));
    o.printf("| inference ms/pair (batch 8, median of 5) | %.1f | %.1f | %.2f× faster |%n", tMs, sMs, tMs / sMs);
    if (!noFinetune) {
      // DemoFinetune prints its accuracy table (teacher, student, majority baseline) when it finishes.
      DemoFinetune.run(teacher.weights(), student.weights(), finetuneSteps, o);
    }
    o.printf("%ndemo finished in %.1f min; runs in %s (metrics.jsonl, checkpoints, model.safetensors, model.sdz)%n",
        (System.nanoTime() - t0) / 60e9, out);
    return 0;
  }

  private static void row(PrintStream o, String label, StepMetrics t, StepMetrics s, String key) {
    o.printf("| %s | %.4f | %.4f | |%n", label, t.get(key), s.get(key));
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
