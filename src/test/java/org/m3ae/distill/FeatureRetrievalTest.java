package org.m3ae.distill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.m3ae.data.BadRecordPolicy;
import org.m3ae.data.config.PipelineConfig;
import org.m3ae.data.config.PipelineLoader;
import org.m3ae.data.pipeline.Batch;
import org.m3ae.data.pipeline.BatchOptions;
import org.m3ae.data.pipeline.DataPipeline;
import org.m3ae.data.pipeline.PrefetchingBatchIterator;
import org.m3ae.data.synth.SyntheticDataset;
import org.m3ae.distill.features.FeatureManifest;
import org.m3ae.distill.features.OfflineFeatures;
import org.m3ae.distill.features.TeacherSpec;
import org.m3ae.model.BuildOptions;
import org.m3ae.model.M3aeGraph;
import org.m3ae.model.M3aeModel;
import org.m3ae.model.ModelConfig;
import org.m3ae.model.ModelConfigLoader;
import org.m3ae.model.Names;
import org.m3ae.tasks.Metrics;
import org.m3ae.weights.GraphWeights;
import org.m3ae.weights.SafetensorsWriter;
import org.m3ae.weights.WeightsException;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Retrieval through the ICL head on the micro model (random weights, a random ICL projection saved beside them): the
 * score matrix equals cosines computed here in double precision from the vision tower's class tokens, the projection
 * read back from the file and caption features written here; captions that are their own image's projected feature
 * are all retrieved at rank 1, and in reversed order only the middle pair is; a teacher without a projection is an
 * error naming the missing key.
 */
class FeatureRetrievalTest {
  @TempDir static Path dir;

  static final int N = 15, DT = 6; // pairs scored; the offline teacher's width

  @Test
  void scoresAreCosinesOfTheProjectedClassTokenAgainstTheCaptionFeatures() throws Exception {
    ModelConfig cfg = ModelConfigLoader.parse(PretrainRunTest.MODEL.getBytes(), "micro");
    int dv = cfg.vision().encoder().width();
    M3aeGraph g = M3aeModel.build(cfg, BuildOptions.defaults());
    Random rnd = new Random(7);
    double[][] w = new double[dv][DT];
    double[] b = new double[DT];
    float[] wf = new float[dv * DT], bf = new float[DT];
    for (int i = 0; i < dv; i++) for (int j = 0; j < DT; j++) wf[i * DT + j] = (float) (w[i][j] = rnd.nextGaussian() * 0.3);
    for (int j = 0; j < DT; j++) bf[j] = (float) (b[j] = rnd.nextGaussian() * 0.1);
    g.sd().var(PretrainGraph.featureProjection("t", org.m3ae.train.FeatureKind.IMAGE) + ".weight", Nd4j.create(wf, new long[] {dv, DT}, 'c'));
    g.sd().var(PretrainGraph.featureProjection("t", org.m3ae.train.FeatureKind.IMAGE) + ".bias", Nd4j.create(bf, new long[] {DT}, 'c'));
    Path weights = dir.resolve("micro.safetensors");
    GraphWeights.write(g.sd(), weights, "micro");

    Path data = SyntheticDataset.materialise(SyntheticDataset.DEFAULT_N, SyntheticDataset.DEFAULT_SEED);
    PipelineConfig pc = PipelineLoader.load(Path.of("data-pipelines/synthetic.yaml")).withRoot(data.toString())
        .withImageSize(cfg.vision().imageSize());

    // the reference: class tokens of the first N val records in file order, projected and normalised in double
    Teacher ref = Teacher.load(cfg, weights);
    ref.request(List.of(Names.VISION_OUT));
    List<String> ids = new ArrayList<>();
    List<double[]> u = new ArrayList<>();
    try (DataPipeline dp = DataPipeline.open(pc, BadRecordPolicy.SKIP);
        PrefetchingBatchIterator it = dp.batches("val", BatchOptions.plain(), 4, 0, 0, false, false, 1)) {
      while (it.hasNext() && ids.size() < N) {
        Batch bt = it.next();
        INDArray out = ref.forward(bt).get(Names.VISION_OUT).castTo(DataType.DOUBLE); // [B, Li, Dv]
        for (int r = 0; r < bt.size() && ids.size() < N; r++) {
          double[] p = b.clone();
          for (int i = 0; i < dv; i++) for (int j = 0; j < DT; j++) p[j] += out.getDouble(r, 0, i) * w[i][j];
          u.add(unit(p));
          ids.add(bt.ids().get(r));
        }
      }
    }
    assertEquals(N, ids.size());

    OfflineFeatures own = features("own", ids, j -> u.get(j)), reversed = features("reversed", ids, j -> u.get(N - 1 - j));
    try (DataPipeline dp = DataPipeline.open(pc, BadRecordPolicy.SKIP)) {
      FeatureRetrieval.Scores s = FeatureRetrieval.score(cfg, weights, "t", own, dp, "val", 8, 1, N);
      assertEquals(N, s.numImages(), "every synthetic record has its own image");
      for (int i = 0; i < N; i++) {
        assertEquals(i, s.textImage()[i]);
        for (int j = 0; j < N; j++) assertEquals(dot(u.get(i), u.get(j)), s.scores()[i][j], 2e-5, i + "," + j);
      }
      Map<String, Double> r = Metrics.recall(s.scores(), s.textImage(), 1, 5);
      assertEquals(1.0, r.get("i2t_r1"));
      assertEquals(1.0, r.get("t2i_r1"));

      FeatureRetrieval.Scores rev = FeatureRetrieval.score(cfg, weights, "t", reversed, dp, "val", 8, 1, N);
      for (int i = 0; i < N; i++) for (int j = 0; j < N; j++) assertEquals(dot(u.get(i), u.get(N - 1 - j)), rev.scores()[i][j], 2e-5);
      assertEquals(1.0 / N, Metrics.recall(rev.scores(), rev.textImage(), 1).get("i2t_r1"), 1e-12, "only the middle pair");

      WeightsException e = assertThrows(WeightsException.class, () -> FeatureRetrieval.score(cfg, weights, "other", own, dp, "val", 8, 1, N));
      assertTrue(e.getMessage().contains("distill.fkd.other.image.proj.weight"), e.getMessage());
    }
  }

  /** A complete feature directory with one text feature per record. */
  private static OfflineFeatures features(String name, List<String> ids, java.util.function.IntFunction<double[]> row) {
    Path d = dir.resolve(name);
    float[] x = new float[ids.size() * DT];
    for (int j = 0; j < ids.size(); j++) {
      double[] v = row.apply(j);
      for (int k = 0; k < DT; k++) x[j * DT + k] = (float) (v[k] * 3); // not unit length: the scorer normalises
    }
    try {
      Files.createDirectories(d);
      new SafetensorsWriter().add("text", new long[] {ids.size(), DT}, x).write(d.resolve("shard-00000.safetensors"));
      new FeatureManifest(FeatureManifest.VERSION, name, TeacherSpec.Family.BERT, "test", "0", null, null, "cls", null,
          Map.of("text", DT), "data-pipelines/synthetic.yaml", "val", 8, 1,
          List.of(new FeatureManifest.Shard("shard-00000.safetensors", ids, FeatureExtraction.sha256(d.resolve("shard-00000.safetensors")), Map.of())),
          Map.of(), true).write(d);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return OfflineFeatures.load(d);
  }

  private static double[] unit(double[] v) {
    double n = Math.sqrt(dot(v, v));
    double[] o = new double[v.length];
    for (int i = 0; i < v.length; i++) o[i] = v[i] / n;
    return o;
  }

  private static double dot(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) s += a[i] * b[i];
    return s;
  }
}
