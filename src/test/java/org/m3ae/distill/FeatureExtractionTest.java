package org.m3ae.distill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.m3ae.data.BadRecordPolicy;
import org.m3ae.data.DataRecord;
import org.m3ae.data.config.PipelineConfig;
import org.m3ae.data.config.PipelineLoader;
import org.m3ae.data.pipeline.Batch;
import org.m3ae.data.pipeline.BatchOptions;
import org.m3ae.data.pipeline.DataPipeline;
import org.m3ae.data.pipeline.PrefetchingBatchIterator;
import org.m3ae.data.synth.SyntheticDataset;
import org.m3ae.distill.FeatureExtraction;
import org.m3ae.distill.features.FeatureManifest;
import org.m3ae.distill.features.OfflineFeatures;
import org.m3ae.distill.features.TeacherSpec;
import org.m3ae.model.BuildOptions;
import org.m3ae.model.M3aeModel;
import org.m3ae.model.ModelConfig;
import org.m3ae.model.ModelConfigLoader;
import org.m3ae.model.Names;
import org.m3ae.train.FeatureKind;
import org.m3ae.weights.GraphWeights;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code extract-features} with an M3AE-family teacher (the micro model, random weights) on a copy of the synthetic set
 * with one corrupt image: an interrupted extraction resumed after its first shard gives the same features, bit for bit,
 * as an uninterrupted one; the rows are the records in file order less the bad one, which is counted; the values are
 * the teacher's own forward on the same batch; a record without features is an error naming it.
 */
class FeatureExtractionTest {
  @TempDir static Path dir;

  @Test
  void resumedExtractionEqualsAStraightOneAndMatchesTheTeacher() throws Exception {
    ModelConfig cfg = ModelConfigLoader.parse(PretrainRunTest.MODEL.getBytes(), "micro");
    Path modelYaml = Files.writeString(dir.resolve("micro.yaml"), PretrainRunTest.MODEL);
    Path weights = dir.resolve("micro.safetensors");
    GraphWeights.write(M3aeModel.build(cfg, BuildOptions.defaults()).sd(), weights, "micro");

    Path data = dir.resolve("data");
    Path src = SyntheticDataset.materialise(SyntheticDataset.DEFAULT_N, SyntheticDataset.DEFAULT_SEED);
    try (Stream<Path> files = Files.walk(src)) {
      for (Path p : files.toList()) {
        Path to = data.resolve(src.relativize(p).toString());
        if (Files.isDirectory(p)) Files.createDirectories(to);
        else Files.copy(p, to);
      }
    }
    Path pipeline = Path.of("data-pipelines/synthetic.yaml");
    PipelineConfig pc = PipelineLoader.load(pipeline).withRoot(data.toString()).withImageSize(cfg.vision().imageSize());
    List<DataRecord> records;
    try (DataPipeline dp = DataPipeline.open(pc, BadRecordPolicy.SKIP)) {
      records = dp.records("train");
    }
    DataRecord broken = records.get(5);
    Files.write(broken.image(), new byte[] {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3}); // not an image any decoder accepts

    TeacherSpec spec = TeacherSpec.parse("name=micro,model=" + modelYaml + ",weights=" + weights);
    PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
    Path cut = dir.resolve("cut"), straight = dir.resolve("straight");
    var first = FeatureExtraction.run(List.of(spec), settings(pipeline, data, cut, false, 1), quiet).get(0);
    assertEquals(1, first.newShards());
    assertFalse(FeatureManifest.read(cut.resolve("micro")).complete());
    IllegalArgumentException inc = assertThrows(IllegalArgumentException.class, () -> OfflineFeatures.load(cut.resolve("micro")));
    assertTrue(inc.getMessage().contains("not complete") && inc.getMessage().contains("--resume"), inc.getMessage());
    IllegalArgumentException again = assertThrows(IllegalArgumentException.class,
        () -> FeatureExtraction.run(List.of(spec), settings(pipeline, data, cut, false, null), quiet));
    assertTrue(again.getMessage().contains("--resume"), again.getMessage());

    var resumed = FeatureExtraction.run(List.of(spec), settings(pipeline, data, cut, true, null), quiet).get(0);
    FeatureExtraction.run(List.of(spec), settings(pipeline, data, straight, false, null), quiet);
    assertEquals(0, FeatureExtraction.run(List.of(spec), settings(pipeline, data, straight, true, null), quiet).get(0).newShards(),
        "a complete teacher is left alone");

    OfflineFeatures a = OfflineFeatures.load(cut.resolve("micro")), b = OfflineFeatures.load(straight.resolve("micro"));
    List<String> want = records.stream().map(DataRecord::id).filter(id -> !id.equals(broken.id())).toList();
    assertEquals(want, a.manifest().ids(), "rows are the records in file order, less the corrupt one");
    assertEquals(want, b.manifest().ids());
    assertEquals(Map.of("unsupported_image_format", 1), a.manifest().badRecords()); // the pipeline's own verdict on 7 bytes
    assertEquals(a.manifest().badRecords(), b.manifest().badRecords());
    assertEquals(resumed.records(), want.size());
    assertEquals(Map.of(FeatureKind.TEXT, 32, FeatureKind.IMAGE, 32, FeatureKind.JOINT, 64), a.dims());
    assertEquals(org.m3ae.distill.FeatureExtraction.sha256(weights), a.manifest().sourceSha256());
    for (FeatureKind k : FeatureKind.values()) {
      assertEquals(b.lookup(k, want, null), a.lookup(k, want, null), k + ": resumed and straight extraction agree exactly");
    }

    // the first batch again, through the teacher directly
    Teacher t = Teacher.load(cfg, weights);
    t.request(List.of(Names.POOLED_TEXT, Names.POOLED_IMAGE, Names.JOINT));
    try (DataPipeline dp = DataPipeline.open(pc, BadRecordPolicy.SKIP);
        PrefetchingBatchIterator it = dp.batches("train", BatchOptions.plain(), 16, 0, 0, false, false, 1)) {
      Batch batch = it.next();
      Map<String, INDArray> o = t.forward(batch);
      assertTrue(o.get(Names.JOINT).equalsWithEps(a.lookup(FeatureKind.JOINT, batch.ids(), null), 1e-6));
      assertTrue(o.get(Names.POOLED_TEXT).equalsWithEps(a.lookup(FeatureKind.TEXT, batch.ids(), null), 1e-6));
      assertTrue(o.get(Names.POOLED_IMAGE).equalsWithEps(a.lookup(FeatureKind.IMAGE, batch.ids(), null), 1e-6));
    }

    IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
        () -> a.lookup(FeatureKind.TEXT, List.of(want.get(0), broken.id()), List.of("x", broken.location())));
    assertTrue(missing.getMessage().contains("'" + broken.id() + "'") && missing.getMessage().contains(broken.location()),
        missing.getMessage());
  }

  private static FeatureExtraction.Settings settings(Path pipeline, Path root, Path out, boolean resume, Integer maxShards) {
    return new FeatureExtraction.Settings(pipeline, root.toString(), "train", out, 16, 4, BadRecordPolicy.SKIP, resume, 1,
        Path.of("configs/models/minilm-l6-text.yaml"), maxShards);
  }
}
