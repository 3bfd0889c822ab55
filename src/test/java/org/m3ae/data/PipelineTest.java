package org.m3ae.data;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.m3ae.data.config.PipelineConfig;
import org.m3ae.data.config.PipelineLoader;
import org.m3ae.data.image.ClipTransform;
import org.m3ae.data.image.ImageDecoder;
import org.m3ae.data.pipeline.Batch;
import org.m3ae.data.pipeline.BatchKeys;
import org.m3ae.data.pipeline.BatchOptions;
import org.m3ae.data.pipeline.DataPipeline;
import org.m3ae.data.pipeline.PrefetchingBatchIterator;
import org.m3ae.data.synth.SyntheticGenerator;
import org.m3ae.masking.MlmMasker;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.m3ae.testing.Exact;
import org.m3ae.testing.Edits;

/** Assembled batches: names, shapes, dtypes, consistency with the records, determinism, skips at decode time. */
class PipelineTest {

  static PipelineConfig synthPairs(Path dir, Path root, int size) throws Exception {
    Path f = dir.resolve("s.yaml");
    Files.writeString(f, "name: s\ntask: pairs\nroot: " + root + "\nformat: jsonl\nsplits: {train: {files: [captions_train.jsonl]}}\n"
        + "fields: {image: image, text: caption}\nimages: {dir: images, pattern: \"{image}.png\"}\n"
        + "tokenizer: {file: \"embedded:synthetic\", style: bert, max_length: 24}\nimage: {size: " + size + "}\n");
    return PipelineLoader.load(f);
  }

  static List<Batch> epoch(DataPipeline p, BatchOptions o, int bs, long seed, int workers) {
    List<Batch> out = new ArrayList<>();
    try (PrefetchingBatchIterator it = p.batches("train", o, bs, seed, 0, true, false, workers)) {
      it.forEachRemaining(out::add);
    }
    return out;
  }

  @Test
  void pretrainingBatchHasEveryPlaceholderConsistentWithItsRecords(@TempDir Path dir) throws Exception {
    Path root = dir.resolve("syn");
    SyntheticGenerator.generate(root, 20, 3);
    try (DataPipeline p = DataPipeline.open(synthPairs(dir, root, 64), BadRecordPolicy.FAIL)) {
      List<Batch> bs = epoch(p, BatchOptions.pretraining(), 6, 1, 2);
      assertEquals(List.of(6, 6, 2), bs.stream().map(Batch::size).toList()); // 14 train images (format v2: 70/10/20)
      Batch b = bs.get(0);
      int n = 16, nk = 4;
      assertArrayEquals(new long[] {6, 3, 64, 64}, b.get(BatchKeys.IMAGE).shape());
      assertEquals(DataType.FLOAT, b.get(BatchKeys.IMAGE).dataType());
      assertEquals(DataType.INT, b.get(BatchKeys.TEXT_IDS).dataType());
      assertEquals(DataType.FLOAT, b.get(BatchKeys.TEXT_MASK).dataType());
      assertArrayEquals(new long[] {6, 24}, b.get(BatchKeys.TEXT_IDS).shape());
      assertArrayEquals(new long[] {6, nk}, b.get(BatchKeys.IMAGE_KEEP_IDS).shape());
      assertArrayEquals(new long[] {6, n}, b.get(BatchKeys.IMAGE_RESTORE_IDS).shape());
      assertArrayEquals(new long[] {6}, b.get(BatchKeys.ITM_LABELS).shape());
      assertEquals(3, b.get(BatchKeys.ITM_LABELS).sumNumber().intValue());
      assertEquals(6 * (n - nk), b.get(BatchKeys.IMAGE_MIM_MASK).sumNumber().intValue());
      // Row 0 is exactly the record's image through the transform and the record's text through the tokenizer.
      DataRecord r0 = p.records("train").stream().filter(r -> r.id().equals(b.ids().get(0))).findFirst().orElseThrow();
      float[] expect = new ClipTransform(64, ClipTransform.Kind.CLIP).apply(ImageDecoder.decode(r0.image()), null);
      assertArrayEquals(expect, b.get(BatchKeys.IMAGE).slice(0).dup().reshape(-1).toFloatVector(), 0f);
      assertArrayEquals(p.tokenizer().encode(r0.text()).ids(), b.get(BatchKeys.TEXT_IDS).getRow(0).toIntVector());
      INDArray lab = b.get(BatchKeys.MLM_LABELS), w = b.get(BatchKeys.MLM_WEIGHTS), ids = b.get(BatchKeys.TEXT_IDS), safe = b.get(BatchKeys.MLM_LABEL_IDS);
      for (int i = 0; i < 6; i++)
        for (int j = 0; j < 24; j++) {
          int l = lab.getInt(i, j);
          assertEquals(l == MlmMasker.IGNORE ? 0f : 1f, w.getFloat(i, j));
          if (l != MlmMasker.IGNORE) {
            assertEquals(ids.getInt(i, j), l);
            assertEquals(l, safe.getInt(i, j));
          }
        }
      // Matched rows show their own image in the ITM pass; swapped rows do not.
      for (int i = 0; i < 6; i++) {
        boolean same = b.get(BatchKeys.ITM_IMAGE).slice(i).equals(b.get(BatchKeys.IMAGE).slice(i));
        assertEquals(b.get(BatchKeys.ITM_LABELS).getInt(i) == 1, same, "row " + i);
      }
    }
  }

  /**
   * train.itm_negatives: hard, through the real batch assembly: every swapped row's ITM image is, pixel for pixel, the
   * image of a record whose caption is as near the pair's as any other image's (400 draws over 13 other images miss the
   * best with probability ~(12/13)^400), and with random negatives the chosen captions are on average farther.
   */
  @Test
  void hardItmNegativesShowTheImageOfTheNearestCaption(@TempDir Path dir) throws Exception {
    Path root = dir.resolve("syn");
    SyntheticGenerator.generate(root, 20, 3);
    try (DataPipeline p = DataPipeline.open(synthPairs(dir, root, 32), BadRecordPolicy.FAIL)) {
      List<DataRecord> recs = p.records("train");
      Map<String, float[]> pixels = new java.util.HashMap<>();
      for (DataRecord r : recs) pixels.put(r.id(), new ClipTransform(32, ClipTransform.Kind.CLIP).apply(ImageDecoder.decode(r.image()), null));
      double[] meanNearness = new double[2];
      int k = 0;
      for (org.m3ae.masking.ItmNegatives rule : org.m3ae.masking.ItmNegatives.values()) {
        BatchOptions o = BatchOptions.plain().withItm(rule, 400);
        double sum = 0;
        int n = 0;
        for (Batch b : epoch(p, o, 6, 5, 1)) {
          for (int i = 0; i < b.size(); i++) {
            if (b.get(BatchKeys.ITM_LABELS).getInt(i) == 1) continue;
            String id = b.ids().get(i);
            DataRecord own = recs.stream().filter(r -> r.id().equals(id)).findFirst().orElseThrow();
            float[] shown = b.get(BatchKeys.ITM_IMAGE).slice(i).dup().reshape(-1).toFloatVector();
            DataRecord neg = recs.stream().filter(r -> java.util.Arrays.equals(pixels.get(r.id()), shown)).findFirst().orElseThrow();
            var ownWords = org.m3ae.masking.ItmSampler.words(own.text());
            double got = jaccard(ownWords, org.m3ae.masking.ItmSampler.words(neg.text()));
            double best = recs.stream().filter(r -> !r.image().equals(own.image()))
                .mapToDouble(r -> jaccard(ownWords, org.m3ae.masking.ItmSampler.words(r.text()))).max().orElseThrow();
            if (rule == org.m3ae.masking.ItmNegatives.HARD) assertEquals(best, got, 1e-12, own.text() + " got " + neg.text());
            sum += got;
            n++;
          }
        }
        assertTrue(n >= 6, "negatives seen: " + n);
        meanNearness[k++] = sum / n;
      }
      assertTrue(meanNearness[1] > meanNearness[0] + 0.1, "hard " + meanNearness[1] + " against random " + meanNearness[0]);
    }
  }

  static double jaccard(java.util.Set<String> a, java.util.Set<String> b) {
    long common = a.stream().filter(b::contains).count();
    return common / (double) (a.size() + b.size() - common);
  }

  @Test
  void batchesAreDeterministicBySeedAndIndependentOfWorkerCount(@TempDir Path dir) throws Exception {
    Path root = dir.resolve("syn");
    SyntheticGenerator.generate(root, 15, 5);
    try (DataPipeline p = DataPipeline.open(synthPairs(dir, root, 32), BadRecordPolicy.FAIL)) {
      List<Batch> a = epoch(p, BatchOptions.pretraining(), 4, 11, 1), b = epoch(p, BatchOptions.pretraining(), 4, 11, 3), c = epoch(p, BatchOptions.pretraining(), 4, 12, 2);
      assertEquals(a.size(), b.size());
      for (int i = 0; i < a.size(); i++) {
        assertEquals(a.get(i).ids(), b.get(i).ids());
        for (Map.Entry<String, INDArray> e : a.get(i).arrays().entrySet()) Exact.assertBitEqual(e.getValue(), b.get(i).get(e.getKey()), e.getKey());
      }
      assertNotEquals(a.get(0).ids(), c.get(0).ids());
    }
  }

  @Test
  void imageThatFailsAtDecodeTimeIsCountedUnderSkipAndStopsUnderFail(@TempDir Path dir) throws Exception {
    Path root = dir.resolve("syn");
    SyntheticGenerator.generate(root, 10, 5);
    // Correctly framed PNG whose data is garbage: passes the reader's cheap check, fails in the decoder.
    byte[] png = Files.readAllBytes(root.resolve("images/syn_00000.png"));
    for (int i = 60; i < png.length - 40; i++) png[i] = (byte) (i * 31);
    Files.write(root.resolve("images/syn_00000.png"), png);
    try (DataPipeline p = DataPipeline.open(synthPairs(dir, root, 32), BadRecordPolicy.SKIP)) {
      int total = epoch(p, BatchOptions.plain(), 3, 1, 2).stream().mapToInt(Batch::size).sum();
      assertEquals(6, total); // 7 train images (format v2: 70/10/20), one corrupt
      assertEquals(1, p.report().count("train", BadRecordReason.CORRUPT_IMAGE), p.report().summary());
    }
    try (DataPipeline p = DataPipeline.open(synthPairs(dir, root, 32), BadRecordPolicy.FAIL)) {
      BadRecordException e = assertThrows(BadRecordException.class, () -> epoch(p, BatchOptions.plain(), 3, 1, 2));
      assertTrue(e.getMessage().contains("captions_train.jsonl:1"), e.getMessage());
    }
  }

  @Test
  void closingMidEpochWaitsForTheWorkersBeforeThePipelineFreesItsTokenizer(@TempDir Path dir) throws Exception {
    Path root = dir.resolve("syn");
    SyntheticGenerator.generate(root, 40, 5);
    for (int round = 0; round < 3; round++) {
      PrefetchingBatchIterator it;
      try (DataPipeline p = DataPipeline.open(synthPairs(dir, root, 64), BadRecordPolicy.FAIL)) {
        it = p.batches("train", BatchOptions.pretraining(), 2, round, 0, true, false, 2);
        assertEquals(2, it.next().size());
        it.close(); // batches are being built on both workers right now
        assertTrue(it.workersStopped());
        assertFalse(it.hasNext());
      }
    }
  }

  @Test
  void aGuidedSamplerCanReplaceTheRandomMaskThroughTheInterface(@TempDir Path dir) throws Exception {
    Path root = dir.resolve("syn");
    SyntheticGenerator.generate(root, 10, 5);
    // A stand-in for the attention-guided sampler: hides the highest-scored patches.
    org.m3ae.masking.PatchMaskSampler topK = new org.m3ae.masking.PatchMaskSampler() {
      public org.m3ae.masking.PatchMask sample(int n, float[] scores, java.util.random.RandomGenerator rng) {
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        java.util.Arrays.sort(order, (a, b) -> Float.compare(scores[b], scores[a]));
        boolean[] m = new boolean[n];
        for (int i = 0; i < n - org.m3ae.masking.PatchMask.lenKeep(n, 0.75); i++) m[order[i]] = true;
        return org.m3ae.masking.PatchMask.fromMaskedFlags(m);
      }

      public double maskRatio() {
        return 0.75;
      }
    };
    try (DataPipeline p = DataPipeline.open(synthPairs(dir, root, 32), BadRecordPolicy.FAIL)) {
      Batch b = epoch(p, BatchOptions.pretraining(), 3, 1, 1).get(0);
      float[][] scores = new float[3][16];
      for (int i = 0; i < 3; i++) for (int j = 0; j < 16; j++) scores[i][j] = (j * 7 + i) % 16;
      Batch g = org.m3ae.data.pipeline.MimRemasker.remask(b, topK, 16, scores, 0);
      for (int i = 0; i < 3; i++) {
        int[] keep = g.get(BatchKeys.IMAGE_KEEP_IDS).getRow(i).toIntVector();
        // The four lowest scores (0..3) are the ones kept.
        for (int k : keep) assertTrue(scores[i][k] < 4, "kept a high-attention patch");
      }
      Exact.assertBitEqual(b.get(BatchKeys.TEXT_IDS), g.get(BatchKeys.TEXT_IDS), "text ids untouched by the remask");
    }
  }

  @Test
  void multiDataSetIteratorFeedsNamedArraysAndReshufflesEachEpoch(@TempDir Path dir) throws Exception {
    Path root = dir.resolve("syn");
    SyntheticGenerator.generate(root, 15, 5);
    try (DataPipeline p = DataPipeline.open(synthPairs(dir, root, 32), BadRecordPolicy.FAIL)) {
      var it = new org.m3ae.data.pipeline.BatchMultiDataSetIterator(p, "train", BatchOptions.pretraining(), 4, 3, true, 1,
          List.of(BatchKeys.IMAGE, BatchKeys.MLM_TEXT_IDS, BatchKeys.TEXT_MASK), List.of(BatchKeys.MLM_LABELS, BatchKeys.ITM_LABELS));
      var first = it.next();
      assertEquals(3, first.getFeatures().length);
      assertEquals(2, first.getLabels().length);
      assertArrayEquals(new long[] {4, 3, 32, 32}, first.getFeatures(0).shape());
      int n = 1;
      while (it.hasNext()) {
        it.next();
        n++;
      }
      assertEquals(3, n); // 12 train images, batch 4
      it.reset();
      assertEquals(1, it.epoch());
      assertNotEquals(first.getFeatures(1), it.next().getFeatures(1));
    }
  }

  @Test
  void vqaBatchCarriesOneHotTargetsAndClosedFlags(@TempDir Path dir) throws Exception {
    Path root = dir.resolve("syn");
    SyntheticGenerator.generate(root, 10, 5);
    Path f = dir.resolve("v.yaml");
    Files.writeString(f, Edits.replaceOnce(Files.readString(Path.of("data-pipelines/synthetic-vqa.yaml")), "embedded:synthetic\ngenerator: {n: 2000, seed: 1234}", root.toString()));
    try (DataPipeline p = DataPipeline.open(PipelineLoader.load(f), BadRecordPolicy.SKIP)) {
      List<Batch> bs = epoch(p, BatchOptions.plain(), 8, 1, 1);
      Batch b = bs.get(0);
      int a = p.answerVocabulary().size();
      assertArrayEquals(new long[] {8, a}, b.get(BatchKeys.VQA_TARGETS).shape());
      assertEquals(8, b.get(BatchKeys.VQA_TARGETS).sumNumber().intValue());
      for (int i = 0; i < 8; i++) {
        String id = b.ids().get(i);
        DataRecord r = p.records("train").stream().filter(x -> x.id().equals(id)).findFirst().orElseThrow();
        assertEquals(r.answer(), p.answerVocabulary().answers().get(b.get(BatchKeys.VQA_LABELS).getInt(i)));
        assertEquals(1f, b.get(BatchKeys.VQA_TARGETS).getFloat(i, b.get(BatchKeys.VQA_LABELS).getInt(i)));
        assertEquals(r.closed() ? 1f : 0f, b.get(BatchKeys.ANSWER_CLOSED).getFloat(i));
      }
      assertEquals(bs.stream().mapToInt(Batch::size).sum(), p.records("train").size());
    }
  }
}
