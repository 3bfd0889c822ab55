package org.m3ae.ablate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.m3ae.data.BadRecordPolicy;
import org.m3ae.data.DataRecord;
import org.m3ae.data.config.PipelineLoader;
import org.m3ae.data.pipeline.DataPipeline;
import org.m3ae.distill.FeatureExtraction;
import org.m3ae.distill.FeatureRetrieval;
import org.m3ae.distill.features.FeatureManifest;
import org.m3ae.distill.features.OfflineFeatures;
import org.m3ae.distill.features.TeacherSpec;
import org.m3ae.model.ModelConfig;
import org.m3ae.tasks.Metrics;
import org.m3ae.weights.SafetensorsWriter;

/**
 * A grid with {@code feature_retrieval}: the variant that trains ICL against a feature teacher is scored through that
 * teacher's ICL head on the named split — the figures equal {@link FeatureRetrieval} and {@link Metrics} run here on
 * the cell's own weights — and the variant without feature KD has no such figure, shown as "–" and left out of the
 * comparisons (micro model, synthetic data, random caption features).
 */
class AblateFeatureRetrievalTest {
  @TempDir Path dir;

  static final int DT = 6;

  @Test
  void onlyTheIclVariantIsScoredThroughItsHeadAndItsFiguresAreTheScorersOwn() throws IOException {
    Path model = MicroRuns.write(dir, "{steps: 2, batch_size: 4, lr: 1.0e-3, seed: 0}");
    Path feats = dir.resolve("feats");
    List<String> ids = new ArrayList<>();
    try (DataPipeline dp = DataPipeline.open(PipelineLoader.load(Path.of("data-pipelines/synthetic.yaml")), BadRecordPolicy.SKIP)) {
      for (String split : List.of("train", "val")) for (DataRecord r : dp.records(split)) ids.add(r.id());
    }
    writeFeatures(feats.resolve("t"), ids);
    Path g = dir.resolve("grid.yaml");
    Files.writeString(g, "name: micro-icl\nrun: " + dir.resolve("teacher.yaml") + "\n"
        + "finetune: {config: demo, steps: 2}\n"
        + "feature_retrieval: {features: " + feats + ", split: val}\n"
        + "seeds: [0]\nvariants:\n  - {label: plain}\n"
        + "  - label: icl\n    overrides:\n      objectives: {icl: 1}\n"
        + "      feature_kd: {student: unimodal, teachers: [{name: t, features: " + feats.resolve("t") + ", weight: 1.0}]}\n");
    Path out = dir.resolve("out");
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    AblateRun.Outcome o = AblateRunTest.run(g, out, false, log);
    assertEquals(2, o.ran(), log.toString());

    CellResult plain = o.report().cells.stream().filter(c -> c.variant().equals("plain")).findFirst().orElseThrow();
    CellResult icl = o.report().cells.stream().filter(c -> c.variant().equals("icl")).findFirst().orElseThrow();
    String i2t = CellResult.featureMetric("t", "i2t"), t2i = CellResult.featureMetric("t", "t2i");
    assertFalse(plain.metrics().containsKey(i2t), plain.metrics().toString());

    // the cell's figures are the scorer's on the cell's pre-trained weights
    ModelConfig cfg = ModelConfig.load(model);
    try (DataPipeline dp = DataPipeline.open(PipelineLoader.load(Path.of("data-pipelines/synthetic.yaml"))
        .withImageSize(cfg.vision().imageSize()), BadRecordPolicy.SKIP)) {
      FeatureRetrieval.Scores s = FeatureRetrieval.score(cfg, out.resolve("cells/icl/seed-0/pretrain/model.safetensors"), "t",
          OfflineFeatures.load(feats.resolve("t")), dp, "val", 32, 1, 0);
      Map<String, Double> r = Metrics.recall(s.scores(), s.textImage(), 10);
      Map<String, Double> chance = Metrics.recallChance(s.numImages(), s.textImage(), 10);
      assertEquals(r.get("i2t_r10"), icl.metrics().get(i2t), 1e-12);
      assertEquals(r.get("t2i_r10"), icl.metrics().get(t2i), 1e-12);
      assertEquals(chance.get("i2t_r10"), icl.chance(i2t), 1e-12);
      assertEquals((double) s.numImages(), icl.details().get("icl_images"));
    }

    GridReport rep = o.report();
    assertEquals(List.of("vqa_overall", "vqa_closed", "vqa_open", "itm_accuracy", i2t, t2i), rep.metrics);
    assertTrue(rep.comparisons.stream().noneMatch(c -> c.metric().startsWith("icl_")), "plain has no ICL figure to compare");
    String md = Files.readString(out.resolve("results.md"));
    assertTrue(md.contains(" ICL t image→text R@10 | ICL t text→image R@10 |"), md);
    String plainRow = md.lines().filter(l -> l.startsWith("| plain |")).findFirst().orElseThrow();
    assertTrue(plainRow.endsWith("| – | – |"), plainRow);
    assertTrue(Files.isRegularFile(out.resolve("chart-" + i2t + ".png")));
  }

  /** Random caption features (text only) for {@code ids}, as extract-features lays them out. */
  static void writeFeatures(Path d, List<String> ids) throws IOException {
    Random rnd = new Random(3);
    float[] x = new float[ids.size() * DT];
    for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
    Files.createDirectories(d);
    new SafetensorsWriter().add("text", new long[] {ids.size(), DT}, x).write(d.resolve("shard-00000.safetensors"));
    new FeatureManifest(FeatureManifest.VERSION, "t", TeacherSpec.Family.BERT, "test", "0", null, null, "cls", null,
        Map.of("text", DT), "data-pipelines/synthetic.yaml", "train", 8, 1,
        List.of(new FeatureManifest.Shard("shard-00000.safetensors", ids, FeatureExtraction.sha256(d.resolve("shard-00000.safetensors")), Map.of())),
        Map.of(), true).write(d);
  }
}
