package org.m3ae.tasks;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.m3ae.data.pipeline.Batch;
import org.m3ae.data.pipeline.BatchKeys;
import org.m3ae.train.TrainTask;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * One fine-tuning step's inputs for {@link org.m3ae.train.Trainer}: the batch's image and text, the task's targets,
 * fresh dropout masks; for retrieval, each image grouped with its caption and {@code candidates − 1} captions of
 * other images of the batch (random texts, as M3AE's draw_false_text; SPEC §2.5).
 */
public final class FinetuneTask implements TrainTask {
  public static final String LOSS_KEY = "loss_total";

  private final TaskGraph g;
  private final List<String> trainable = new ArrayList<>();
  private final long seed;

  public FinetuneTask(TaskGraph g, long seed) {
    if (!g.hasLoss()) throw new IllegalArgumentException("fine-tuning needs a graph with the task loss");
    this.g = g;
    this.seed = seed;
    for (SDVariable v : g.sd().variables()) if (v.getVariableType() == VariableType.VARIABLE) trainable.add(v.name());
  }

  @Override
  public SameDiff sd() {
    return g.sd();
  }

  @Override
  public List<String> trainable() {
    return trainable;
  }

  @Override
  public List<String> lossKeys() {
    return List.of(LOSS_KEY);
  }

  @Override
  public String lossVariable(String key) {
    if (!LOSS_KEY.equals(key)) throw new IllegalArgumentException("unknown loss key " + key);
    return TaskGraph.LOSS;
  }

  @Override
  public Map<String, INDArray> feed(Batch batch, int step, int micro) {
    SplittableRandom rng = new SplittableRandom(mix(seed, step, micro));
    return feed(g, batch, rng, true);
  }

  /** Placeholders for a batch; {@code dropout} false feeds all-ones masks (the training graph in eval mode). */
  public static Map<String, INDArray> feed(TaskGraph g, Batch batch, SplittableRandom rng, boolean dropout) {
    DataType dt = g.graph().dtype();
    Map<String, INDArray> f = new HashMap<>();
    INDArray image = batch.get(BatchKeys.IMAGE).castTo(dt);
    INDArray ids = batch.get(BatchKeys.TEXT_IDS).castTo(DataType.INT32);
    INDArray mask = batch.get(BatchKeys.TEXT_MASK).castTo(dt);
    if (ids.size(1) != g.textLen()) {
      throw new IllegalArgumentException("batch text length " + ids.size(1) + " differs from the graph's " + g.textLen());
    }
    int b = batch.size();
    int rows = b;
    switch (g.kind()) {
      case VQA -> {
        if (g.hasLoss()) f.put(TaskGraph.VQA_TARGETS, batch.get(BatchKeys.VQA_TARGETS).castTo(dt));
      }
      case CLASSIFICATION -> {
        if (!g.hasLoss()) break;
        f.put(TaskGraph.CLS_LABELS, batch.get(BatchKeys.CLS_LABELS).castTo(DataType.INT32));
        f.put(TaskGraph.WEIGHTS, Nd4j.ones(dt, b));
      }
      case RETRIEVAL -> {
        if (g.hasLoss()) {
          int c = g.candidates();
          if (b < 2) throw new IllegalArgumentException("retrieval training needs batches of ≥ 2 pairs to draw negative texts");
          int[] imgRow = new int[b * c];
          int[] txtRow = new int[b * c];
          for (int i = 0; i < b; i++) {
            int[] neg = negatives(i, b, c - 1, rng);
            for (int k = 0; k < c; k++) {
              imgRow[i * c + k] = i;
              txtRow[i * c + k] = k == 0 ? i : neg[k - 1];
            }
          }
          image = rows(image, imgRow);
          ids = rows(ids, txtRow);
          mask = rows(mask, txtRow);
          rows = b * c;
          f.put(TaskGraph.IRTR_LABELS, Nd4j.zeros(DataType.INT32, b));
          f.put(TaskGraph.WEIGHTS, Nd4j.ones(dt, b));
        }
      }
    }
    f.put(g.image(), image);
    f.put(g.textIds(), ids);
    f.put(g.textMask(), mask);
    if (g.training()) f.putAll(dropout ? g.graph().dropout().sample(rows, dt, rng) : g.graph().dropout().identity(rows, dt));
    return f;
  }

  /** {@code n} indices of other rows than {@code self}: without repetition while there are enough, then cycling. */
  static int[] negatives(int self, int b, int n, SplittableRandom rng) {
    int[] others = new int[b - 1];
    for (int j = 0, k = 0; j < b; j++) if (j != self) others[k++] = j;
    for (int i = others.length - 1; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      int t = others[i];
      others[i] = others[j];
      others[j] = t;
    }
    int[] out = new int[n];
    for (int i = 0; i < n; i++) out[i] = others[i % others.length];
    return out;
  }

  /** Rows {@code idx} of a [N, ...] array stacked into [idx.length, ...]. */
  static INDArray rows(INDArray a, int[] idx) {
    INDArray[] parts = new INDArray[idx.length];
    for (int i = 0; i < idx.length; i++) parts[i] = a.get(NDArrayIndex.interval(idx[i], idx[i] + 1));
    return Nd4j.concat(0, parts);
  }

  static long mix(long seed, int step, int micro) {
    long h = seed * 0x9E3779B97F4A7C15L + step;
    h = (h ^ (h >>> 31)) * 0xBF58476D1CE4E5B9L + micro;
    return h ^ (h >>> 29);
  }
}
