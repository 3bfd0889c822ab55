package org.m3ae.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.m3ae.demo.Demo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code demo}: the embedded default a fresh clone runs ({@link Demo}); prints its table. */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Pre-train a teacher, distil a student (KD + attention-guided MIM), train the same student without "
        + "KD, fine-tune all three on synthetic VQA and compare them with the majority baseline. Embedded synthetic data.")
public final class DemoCommand implements Callable<Integer> {
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
    if (parallel < 1 || parallel > 2) {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--parallel must be 1 or 2, got " + parallel);
    }
    if (finetuneSteps < 1 && !noFinetune) {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--finetune-steps must be ≥ 1 (or pass --no-finetune), got " + finetuneSteps);
    }
    var opt = new Demo.Options(out, teacherSteps, studentSteps, noFinetune ? 0 : finetuneSteps, resume, parallel);
    System.out.println();
    System.out.print(Demo.run(opt, System.out).toMarkdown());
    return 0;
  }
}
