package org.m3ae.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.m3ae.data.pipeline.DataPipeline;
import org.m3ae.distill.FeatureRetrieval;
import org.m3ae.distill.PretrainRun;
import org.m3ae.distill.features.OfflineFeatures;
import org.m3ae.model.ModelConfig;
import org.m3ae.tasks.Metrics;
import org.m3ae.train.RunConfig;
import org.m3ae.train.Checkpoints;
import org.m3ae.train.RunDir;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code evaluate-features}: image ↔ caption retrieval through the ICL head of a run trained with offline teacher
 * features ({@link FeatureRetrieval}), on a split the run did not train on, with the chance row.
 */
@Command(name = "evaluate-features", mixinStandardHelpOptions = true,
    description = "Score what MMKD-CLIP's ICL term taught a run's vision tower: each image of a split through the "
        + "vision tower and the ICL projection of a teacher, ranked by cosine against that teacher's offline caption "
        + "features (extract-features --split; a split's features also serve the splits a pipeline holds out of it); "
        + "prints R@1/5/10 both ways and the chance row.")
public final class EvaluateFeaturesCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--config", required = true, description = "The pre-training run config with feature_kd (configs/runs/*.yaml).")
  Path config;

  @Option(names = "--checkpoint", description = "Weights with the ICL projections (default: model.safetensors of the "
      + "run's directory, runs/<name>).")
  Path checkpoint;

  @Option(names = "--features", required = true, description = "Directory of offline features covering the split, one "
      + "sub-directory per teacher as extract-features --out wrote them (e.g. features/medpix-dev; features/medpix-train "
      + "for the held-out split val).")
  Path features;

  @Option(names = "--teacher", description = "Teacher to score (repeatable; default: every feature_kd teacher of the run).")
  List<String> teachers;

  @Option(names = "--split", defaultValue = "dev", description = "Split to score (default ${DEFAULT-VALUE}).")
  String split;

  @Option(names = "--all-checkpoints", description = "Score every checkpoint of the run (runs/<name>/checkpoints, "
      + "oldest first) and name the best by R@10: for choosing a step on a held-out split such as val, never on the "
      + "split results are reported on.")
  boolean allCheckpoints;

  @Option(names = "--max-pairs", defaultValue = "0", description = "Score the first N pairs in file order (default: all).")
  int max;

  @Option(names = "--batch-size", defaultValue = "32", description = "Images per vision forward (default ${DEFAULT-VALUE}).")
  int batch;

  @Override
  public Integer call() {
    RunConfig rc = RunConfig.load(config);
    if (!rc.featureKdEnabled()) {
      throw new IllegalArgumentException(config + ": no feature_kd teachers, so no ICL projection to score");
    }
    if (rc.featureKd().student() != RunConfig.StudentFeatures.UNIMODAL) {
      throw new IllegalArgumentException(config + ": feature_kd.student is " + rc.featureKd().student().name().toLowerCase(Locale.ROOT)
          + "; only unimodal student features form a dual encoder (a fused image feature depends on its caption)");
    }
    if (allCheckpoints && checkpoint != null) throw new IllegalArgumentException("--all-checkpoints and --checkpoint exclude each other");
    List<Path> weightFiles = new ArrayList<>();
    Checkpoints runCheckpoints = RunDir.of(rc.name()).checkpoints(Integer.MAX_VALUE);
    if (allCheckpoints) {
      for (Path d : runCheckpoints.list()) weightFiles.add(d.resolve(Checkpoints.MODEL));
      if (weightFiles.isEmpty()) throw new IllegalArgumentException(runCheckpoints.root() + ": no checkpoints (checkpoint_every in the run config)");
    } else {
      weightFiles.add(RunDir.weightsFor(rc.name(), checkpoint));
    }
    List<String> names = new ArrayList<>();
    for (RunConfig.FeatureTeacher t : rc.featureKd().teachers()) names.add(t.name());
    if (teachers != null) {
      for (String t : teachers) {
        if (!names.contains(t)) throw new IllegalArgumentException("--teacher " + t + ": not a feature_kd teacher of " + config + " (has " + names + ")");
      }
      names = teachers;
    }
    ModelConfig m = ModelConfig.load(Path.of(rc.model()));
    var out = spec.commandLine().getOut();
    try (DataPipeline data = PretrainRun.openData(rc, m)) {
      if (!data.splits().contains(split)) throw new IllegalArgumentException(rc.data().pipeline() + ": no split '" + split + "' (has " + data.splits() + ")");
      Map<String, OfflineFeatures> feats = FeatureRetrieval.captionFeatures(features, names, data, split);
      String what = allCheckpoints ? runCheckpoints.root() + "/*" : weightFiles.get(0).toString();
      out.printf(Locale.ROOT, "%s on %s/%s, image ↔ caption retrieval through the ICL head (cosine)%n%n", what, rc.data().pipeline(), split);
      out.println("| " + (allCheckpoints ? "checkpoint | " : "") + "teacher | images | captions | i2t R@1 | i2t R@5 | i2t R@10 | t2i R@1 | t2i R@5 | t2i R@10 |");
      out.println("|" + (allCheckpoints ? "---|" : "") + "---|---:|---:|---:|---:|---:|---:|---:|---:|");
      Map<String, Double> chance = null;
      int ni = 0, nt = 0;
      Path best = null;
      double bestR10 = -1;
      for (Path w : weightFiles) {
        String ck = allCheckpoints ? w.getParent().getFileName() + " | " : "";
        double r10 = 0;
        for (String t : names) {
          FeatureRetrieval.Scores s = FeatureRetrieval.score(m, w, t, feats.get(t), data, split, batch, 2, max);
          Map<String, Double> r = Metrics.recall(s.scores(), s.textImage(), 1, 5, 10);
          row(out, ck + t, s.numImages(), s.textImage().length, r);
          r10 += (r.get("i2t_r10") + r.get("t2i_r10")) / (2.0 * names.size());
          chance = Metrics.recallChance(s.numImages(), s.textImage(), 1, 5, 10);
          ni = s.numImages();
          nt = s.textImage().length;
        }
        out.flush();
        if (r10 > bestR10) {
          bestR10 = r10;
          best = w;
        }
      }
      row(out, (allCheckpoints ? "– | " : "") + "chance", ni, nt, chance);
      if (allCheckpoints) {
        // R@10 rather than R@1: on a few hundred captions R@1 moves by one or two hits between checkpoints
        out.printf(Locale.ROOT, "%nbest on %s by R@10 (both directions, every teacher): %s (%.1f %%; chance %.1f %%)%n", split,
            best.getParent(), 100 * bestR10, 100 * (chance.get("i2t_r10") + chance.get("t2i_r10")) / 2);
      }
    }
    return 0;
  }

  private static void row(java.io.PrintWriter out, String label, int ni, int nt, Map<String, Double> m) {
    out.printf(Locale.ROOT, "| %s | %d | %d | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |%n", label, ni, nt,
        100 * m.get("i2t_r1"), 100 * m.get("i2t_r5"), 100 * m.get("i2t_r10"),
        100 * m.get("t2i_r1"), 100 * m.get("t2i_r5"), 100 * m.get("t2i_r10"));
  }
}
