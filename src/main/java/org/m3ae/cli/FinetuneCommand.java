package org.m3ae.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.m3ae.tasks.FinetuneRun;
import org.m3ae.tasks.HeadInit;
import org.m3ae.tasks.TaskConfig;
import org.m3ae.train.RunDir;
import org.m3ae.train.TrainingListener;
import org.m3ae.ui.UiOptions;
import org.m3ae.ui.UiSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "finetune", mixinStandardHelpOptions = true,
    description = "Fine-tune a pre-trained model on VQA, classification or retrieval (SPEC §5); selects the best epoch on a "
        + "validation split (carved from train when the dataset has none), never on test.")
public final class FinetuneCommand implements Callable<Integer> {
  /** {@code checkpoint} | {@code fresh}, the names the configs and run.json use. */
  static final class HeadInitConverter implements picocli.CommandLine.ITypeConverter<HeadInit> {
    @Override
    public HeadInit convert(String v) {
      for (HeadInit h : HeadInit.values()) if (h.id().equals(v)) return h;
      throw new picocli.CommandLine.TypeConversionException("--init-heads: expected checkpoint or fresh, got '" + v + "'");
    }
  }

  @Option(names = "--config", required = true, description = "Task run config (configs/runs/vqa-*.yaml, finetune-*.yaml, retrieval-*.yaml).")
  Path config;

  @Option(names = "--init", description = "Pre-trained weights: model.safetensors of a pretrain run, or a checkpoint such as "
      + "the official m3ae.ckpt (.ckpt/.pt/.pth/.bin, read directly); the position grid is resized to the task's image "
      + "size. Overrides 'init' of the config; 'none' fine-tunes from random initialisation.")
  String init;

  @Option(names = "--init-heads", defaultValue = "checkpoint", converter = HeadInitConverter.class,
      description = "checkpoint (default): continue from the init file's task head (vqa_head / cls_head / irtr_head of a "
          + "fine-tuned checkpoint) when it has one; a head of another label count is an error. fresh: start the head from "
          + "random whatever the file holds (what the official code does when fine-tuning from a load_path).")
  HeadInit initHeads;

  @Option(names = "--out", description = "Run directory (default runs/<name from the config>).")
  Path out;

  @Option(names = "--seed", description = "Override train.seed (head initialisation, shuffling, dropout).")
  Long seed;

  @Option(names = "--max-steps", description = "Stop after this many steps (the schedule follows it).")
  Integer maxSteps;

  @Option(names = "--resume", description = "Continue from the run directory's latest complete checkpoint (checkpoints/step-N: "
      + "weights, optimiser state, data position and the best validation so far); the steps after it replay those of an "
      + "uninterrupted run. Without a checkpoint the run starts at step 0.")
  boolean resume;

  @Mixin UiOptions ui;

  @Override
  public Integer call() {
    TaskConfig tc = TaskConfig.load(config);
    if (seed != null) tc = TaskConfigs.withSeed(tc, seed);
    Path runDir = out != null ? out : RunDir.of(tc.name()).path();
    Path initPath = init == null ? null : init.equals("none") ? null : Path.of(init);
    if (init != null && init.equals("none")) tc = TaskConfigs.withInit(tc, "none");
    try (UiSession s = ui.start(runDir)) {
      List<TrainingListener> extra = new ArrayList<>();
      if (s.enabled()) extra.add(s.listener());
      FinetuneRun.Result r = FinetuneRun.run(tc, config, initPath, initHeads, runDir, maxSteps, resume, extra, System.out);
      System.out.printf("done: %d steps in %.1f s → %s; best %s %.4f at step %d (weights %s%s)%n", r.steps(), r.seconds(), r.runDir(),
          r.selectMetric(), r.bestVal(), r.bestStep() + 1, r.weights().getFileName(), r.sdz() == null ? "" : ", inference graph " + r.sdz().getFileName());
    }
    return 0;
  }
}
