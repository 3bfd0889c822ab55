package org.m3ae.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.m3ae.distill.PretrainRun;
import org.m3ae.train.RunDir;
import org.m3ae.train.RunConfig;
import org.m3ae.ui.UiOptions;
import org.m3ae.ui.UiSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code pretrain}: pre-training with or without distillation, from a run config. */
@Command(name = "pretrain", mixinStandardHelpOptions = true,
    description = "Pre-train a model (MLM + MIM + ITM), distilling from a frozen teacher when the run config names "
        + "one (hidden-state + attention KD, attention-guided progressive MIM mask).")
public final class PretrainCommand implements Callable<Integer> {
  @Option(names = "--config", required = true, description = "Run config YAML (configs/runs/*.yaml).")
  Path config;

  @Option(names = "--steps", description = "Override train.steps (the LR and mask schedules follow it).")
  Integer steps;

  @Option(names = "--out", description = "Run directory (default runs/<name from the config>).")
  Path out;

  @Option(names = "--resume", description = "Continue from the last complete checkpoint in the run directory.")
  boolean resume;

  @Mixin UiOptions ui;

  @Override
  public Integer call() {
    RunConfig rc = RunConfig.load(config);
    Path runDir = out != null ? out : RunDir.of(rc.name()).path();
    // The UI starts before the run so that it shows the run from its first step (docs/ui.md).
    try (UiSession s = ui.start(runDir)) {
      PretrainRun.Result r = PretrainRun.run(rc, config, runDir, steps, resume, List.of(s.listener()), System.out);
      System.out.printf("done: %d steps in %.1f s → %s (weights %s%s)%n", r.steps(), r.seconds(), r.runDir(),
          r.weights().getFileName(), r.sdz() == null ? "" : ", inference graph " + r.sdz().getFileName());
    }
    return 0;
  }
}
