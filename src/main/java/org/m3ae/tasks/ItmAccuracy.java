package org.m3ae.tasks;

import java.nio.file.Path;
import org.m3ae.data.BadRecordPolicy;
import org.m3ae.data.config.PipelineLoader;
import org.m3ae.data.pipeline.Batch;
import org.m3ae.data.pipeline.BatchKeys;
import org.m3ae.data.pipeline.BatchOptions;
import org.m3ae.data.pipeline.DataPipeline;
import org.m3ae.data.pipeline.PrefetchingBatchIterator;
import org.m3ae.masking.ItmNegatives;
import org.m3ae.model.BuildOptions;
import org.m3ae.model.M3aeGraph;
import org.m3ae.model.M3aeModel;
import org.m3ae.model.ModelConfig;
import org.m3ae.model.Names;
import org.m3ae.model.PassSpec;
import org.m3ae.weights.LoadReport;
import org.m3ae.weights.TensorSource;
import org.m3ae.weights.TensorSources;
import org.m3ae.weights.WeightLoader;
import org.m3ae.weights.WeightsException;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Image–text matching accuracy of a pre-trained model on a held-out split: the pre-training ITM head (SPEC §2.4) on
 * the split's pairs, half of each batch with its own image and half with another image of the split, drawn as the
 * pre-training batches draw them but from a fixed seed, so that every model is scored on the same pairs. Chance is
 * 50 %; a model whose ITM has collapsed to the prior scores 50 % with a loss of ln 2.
 */
public final class ItmAccuracy {
  /** Pairs scored, accuracy, mean cross-entropy (nats). */
  public record Result(int pairs, double accuracy, double loss) {}

  private ItmAccuracy() {}

  /** A graph of {@code cfg} with the ITM head, weights from {@code weights} (every weight must be there). */
  public static M3aeGraph load(ModelConfig cfg, Path weights) {
    M3aeGraph g = M3aeModel.build(cfg, BuildOptions.defaults().withPass(PassSpec.inference().withHeads(PassSpec.Head.ITM)));
    try (TensorSource src = TensorSources.open(weights)) {
      LoadReport r = WeightLoader.load(g.sd(), src, TensorSources.keyMapFor(src));
      if (!r.missing().isEmpty()) {
        throw new WeightsException(weights + ": lacks " + r.missing().size() + " weights of " + cfg.name()
            + " with its ITM head (e.g. " + r.missing().keySet().iterator().next() + "): ITM accuracy needs a "
            + "pre-training checkpoint");
      }
    }
    return g;
  }

  /**
   * Scores {@code weights} on {@code split} of a pre-training pipeline, opened at the model's image size (the
   * pipeline's root replaced by {@code root} when not null).
   */
  public static Result evaluate(ModelConfig m, Path weights, Path pipeline, String root, String split, int batch, long seed) {
    var pc = PipelineLoader.load(pipeline).withImageSize(m.vision().imageSize());
    if (root != null) pc = pc.withRoot(root);
    try (DataPipeline data = DataPipeline.open(pc, BadRecordPolicy.SKIP)) {
      if (!data.splits().contains(split)) {
        throw new IllegalArgumentException(pipeline + ": no split '" + split + "' (has " + data.splits() + ")");
      }
      return evaluate(load(m, weights), data, split, batch, seed, 2);
    }
  }

  /** Scores every pair of {@code split} once. */
  public static Result evaluate(M3aeGraph g, DataPipeline data, String split, int batch, long seed, int workers) {
    String logits = g.pass("").itmLogits().name();
    BatchOptions opts = BatchOptions.plain().withItm(ItmNegatives.RANDOM, 1).withPatchSize(g.config().vision().patchSize());
    int n = 0, right = 0;
    double loss = 0;
    try (PrefetchingBatchIterator it = data.batches(split, opts, batch, seed, 0, false, false, workers)) {
      while (it.hasNext()) {
        Batch b = it.next();
        var feed = new java.util.HashMap<String, INDArray>();
        feed.put(Names.IMAGE, b.get(BatchKeys.ITM_IMAGE));
        feed.put(Names.TEXT_IDS, b.get(BatchKeys.TEXT_IDS));
        feed.put(Names.TEXT_MASK, b.get(BatchKeys.TEXT_MASK));
        INDArray out = g.sd().output(feed, logits).get(logits); // [B, 2]
        INDArray labels = b.get(BatchKeys.ITM_LABELS);
        for (int i = 0; i < out.size(0); i++) {
          double l0 = out.getDouble(i, 0), l1 = out.getDouble(i, 1);
          int y = labels.getInt(i);
          if ((l1 > l0 ? 1 : 0) == y) right++;
          double m = Math.max(l0, l1);
          loss += m + Math.log(Math.exp(l0 - m) + Math.exp(l1 - m)) - (y == 1 ? l1 : l0);
          n++;
        }
      }
    }
    if (n == 0) throw new IllegalArgumentException(data.config().name() + ": split '" + split + "' has no pairs to score");
    return new Result(n, (double) right / n, loss / n);
  }
}
