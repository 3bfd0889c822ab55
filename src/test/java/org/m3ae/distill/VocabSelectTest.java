package org.m3ae.distill;

import org.m3ae.train.RunConfig;
import org.m3ae.masking.MaskSource;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.m3ae.data.pipeline.Batch;
import org.m3ae.model.Buckets;
import org.m3ae.model.ModelConfig;
import org.m3ae.model.ModelConfigLoader;
import org.m3ae.model.Names;
import org.m3ae.model.VocabSelect;
import org.m3ae.train.GradientGraph;
import org.m3ae.train.Trainer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Word lookups through the batch's own vocabulary against the reference one-hot product with the whole table (the
 * path the finite-difference check covers): the same loss terms and the same gradient for every weight — the word
 * table's included, on a batch where ids repeat (padding, frequent words) — through one joint call and through the
 * per-pass calls the trainer makes. The batch vocabulary is padded to a {@link Buckets} size with id -1 and zero rows,
 * which must change nothing.
 */
class VocabSelectTest {
  private static final Map<String, Double> WEIGHTS = Map.of("mlm", 1.0, "mim", 1.0, "itm", 1.0, "hid", 1.0, "attn", 1.0);

  @Test
  void batchVocabularyGivesTheOneHotGradients() throws Exception {
    ModelConfig cfg = ModelConfigLoader.parse(PretrainRunTest.MODEL.getBytes(), "micro");
    PretrainGraph g = new PretrainGraph(cfg, null, null, WEIGHTS, true, true);
    DistillTask task = new DistillTask(g, null, RunConfig.Mask.of(MaskSource.RANDOM), 10, 3, true);
    List<GradientGraph> passes = task.gradientGraphs(); // built before the feed, which sets their rows
    Batch batch = SyntheticBatch.first(cfg.vision().imageSize(), 5);
    Map<String, INDArray> feed = task.feed(batch, 0, 0);
    int[] ids = feed.get("mlm/" + Names.TEXT_IDS).castTo(DataType.INT32).dup().data().asInt();
    int[] selected = feed.get(VocabSelect.IDS).castTo(DataType.INT32).dup().data().asInt();
    int distinct = (int) Arrays.stream(selected).filter(i -> i >= 0).count();
    int padded = selected.length;
    assertTrue(distinct < ids.length, "ids repeat in the batch: " + distinct + " distinct of " + ids.length);
    assertTrue(Arrays.stream(ids).distinct().count() <= distinct, "the MLM pass's ids are among the selected");
    assertEquals(Buckets.up(distinct), padded, "padded to a bucket");
    assertTrue(padded > distinct, "this batch exercises the padding: " + distinct + " distinct, " + padded + " rows");
    for (int i = distinct; i < padded; i++) assertEquals(-1, selected[i], "padding id");
    assertEquals(padded, feed.get("mlm/" + VocabSelect.SELECT).columns());
    for (GradientGraph p : passes) {
      assertTrue(p.trainable().contains(VocabSelect.ROWS), "pass graphs differentiate the rows");
      INDArray rows = p.sd().getArrForVarName(VocabSelect.ROWS);
      assertEquals(padded, rows.rows());
      assertEquals(0.0, rows.getRow(padded - 1).amaxNumber().doubleValue(), 0.0, "padding rows are zero");
    }
    assertTrue(!g.trainable().contains(VocabSelect.ROWS), "the rows are no model weight");

    // reference: the training graph's own passes, one-hot products with the whole table, one joint call
    GradientGraph.Result want = new GradientGraph(g.sd(), g.lossKeys(), g.trainable()).compute(feed, PretrainGraph.LOSSES::get);
    Map<String, Double> losses = new HashMap<>();
    Map<String, INDArray> grads = new HashMap<>();
    for (GradientGraph p : passes) {
      GradientGraph.Result r = p.compute(feed, PretrainGraph.LOSSES::get);
      r.losses().forEach((k, v) -> losses.merge(k, v, Double::sum));
      Trainer.addInto(grads, task.weightGradients(r.gradients(), feed), 1);
    }
    assertClose(want, losses, grads, "per-pass calls with the batch vocabulary");
  }

  private static void assertClose(GradientGraph.Result want, Map<String, Double> losses, Map<String, INDArray> grads,
      String how) {
    for (var e : want.losses().entrySet()) {
      assertEquals(e.getValue(), losses.get(e.getKey()), 1e-5 * Math.abs(e.getValue()), how + ": " + e.getKey());
    }
    assertEquals(new TreeSet<>(want.gradients().keySet()), new TreeSet<>(grads.keySet()), how + ": variables");
    String word = "language_encoder.embeddings.word_embeddings.weight";
    assertTrue(want.gradients().get(word).amaxNumber().doubleValue() > 0, "the word table gets a gradient");
    for (var e : want.gradients().entrySet()) {
      INDArray ref = e.getValue();
      double scale = Math.max(1e-3, ref.amaxNumber().doubleValue());
      double diff = Transforms.abs(ref.sub(grads.get(e.getKey()))).maxNumber().doubleValue();
      assertTrue(diff <= 1e-4 * scale, how + ": " + e.getKey() + " differs by " + diff + " (max |g| " + scale + ")");
    }
  }
}
