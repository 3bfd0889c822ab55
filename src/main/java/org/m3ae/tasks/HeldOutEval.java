package org.m3ae.tasks;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.m3ae.data.pipeline.Batch;
import org.m3ae.data.pipeline.BatchKeys;
import org.m3ae.data.pipeline.BatchOptions;
import org.m3ae.data.pipeline.DataPipeline;
import org.m3ae.data.config.PipelineLoader;
import org.m3ae.data.pipeline.PrefetchingBatchIterator;
import org.m3ae.data.BadRecordPolicy;
import org.m3ae.model.BuildOptions;
import org.m3ae.model.M3aeGraph;
import org.m3ae.model.M3aeModel;
import org.m3ae.model.ModelConfig;
import org.m3ae.model.Names;
import org.m3ae.model.PassSpec;
import org.m3ae.train.RunConfig;
import org.m3ae.weights.LoadReport;
import org.m3ae.weights.TensorSource;
import org.m3ae.weights.TensorSources;
import org.m3ae.weights.WeightLoader;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A pre-trained model's two pre-training heads on a held-out split, for comparing KD forms (docs/training.md,
 * "Distillation terms"): ITM accuracy and loss as {@link ItmAccuracy} scores them, and the MLM loss and accuracy on
 * the masked tokens of the split's captions, masked with the run config's rule from a fixed seed so that every model
 * sees the same masks. Chooses nothing itself; run it on {@code val}, never to pick on {@code test}.
 *
 * <p>{@code java -jar target/m3ae-distill.jar evaluate-itm --config <run config> --checkpoint <weights> --mlm [--split val] [--seed N]}
 */
public final class HeldOutEval {
  /** ITM pairs, accuracy, loss; MLM masked tokens, loss (nats), top-1 accuracy. */
  public record Result(int itmPairs, double itmAccuracy, double itmLoss, int mlmTokens, double mlmLoss, double mlmAccuracy) {}

  private HeldOutEval() {}

  public static Result evaluate(RunConfig rc, Path weights, String split, int batch, long seed) {
    ModelConfig m = ModelConfig.load(Path.of(rc.model()));
    ItmAccuracy.Result itm = ItmAccuracy.evaluate(m, weights, Path.of(rc.data().pipeline()), rc.data().root(), split, batch, seed);
    M3aeGraph g = M3aeModel.build(m, BuildOptions.defaults().withPass(PassSpec.inference().withHeads(PassSpec.Head.MLM)));
    try (TensorSource src = TensorSources.open(weights)) {
      LoadReport r = WeightLoader.load(g.sd(), src, TensorSources.keyMapFor(src));
      if (!r.missing().isEmpty()) throw new IllegalArgumentException(weights + ": lacks " + r.missing().keySet());
    }
    var pc = PipelineLoader.load(Path.of(rc.data().pipeline())).withImageSize(m.vision().imageSize());
    if (rc.data().root() != null) pc = pc.withRoot(rc.data().root());
    String logits = g.pass("").mlmLogits().name();
    BatchOptions opts = BatchOptions.plain().withMlm(0.15, rc.train().mlmMasking()).withPatchSize(m.vision().patchSize());
    int n = 0, right = 0;
    double loss = 0;
    try (DataPipeline data = DataPipeline.open(pc, BadRecordPolicy.SKIP);
        PrefetchingBatchIterator it = data.batches(split, opts, batch, seed, 0, false, false, 2)) {
      while (it.hasNext()) {
        Batch b = it.next();
        Map<String, INDArray> feed = new HashMap<>();
        feed.put(Names.IMAGE, b.get(BatchKeys.IMAGE));
        feed.put(Names.TEXT_IDS, b.get(BatchKeys.MLM_TEXT_IDS));
        feed.put(Names.TEXT_MASK, b.get(BatchKeys.TEXT_MASK));
        INDArray out = g.sd().output(feed, logits).get(logits); // [B, Lt, V]
        INDArray labels = b.get(BatchKeys.MLM_LABEL_IDS), w = b.get(BatchKeys.MLM_WEIGHTS);
        for (int i = 0; i < out.size(0); i++) {
          for (int t = 0; t < out.size(1); t++) {
            if (w.getDouble(i, t) == 0) continue;
            double[] z = out.slice(i).getRow(t).toDoubleVector(); // [V]
            int y = labels.getInt(i, t), arg = 0;
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int k = 0; k < z.length; k++) if (z[k] > max) { max = z[k]; arg = k; }
            for (double v : z) sum += Math.exp(v - max);
            loss += max + Math.log(sum) - z[y];
            if (arg == y) right++;
            n++;
          }
        }
      }
    }
    return new Result(itm.pairs(), itm.accuracy(), itm.loss(), n, n == 0 ? Double.NaN : loss / n, n == 0 ? Double.NaN : (double) right / n);
  }
}
