package org.m3ae.tasks;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.m3ae.data.DataRecord;
import org.m3ae.data.pipeline.Batch;
import org.m3ae.data.pipeline.BatchKeys;
import org.m3ae.data.pipeline.BatchOptions;
import org.m3ae.data.pipeline.DataPipeline;
import org.m3ae.data.pipeline.PrefetchingBatchIterator;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Image–text retrieval with M3AE's cross-encoder (SPEC §2.5, §5): every image is paired with every text and the
 * irtr_head scores the fused pair. The full matrix costs images + texts tower passes and images × texts fusion
 * passes ({@link PairScorer}), scored in chunks with a progress bar. The fast mode shortlists candidates by the cosine of the two streams' projected first tokens
 * (fusion inputs: no cross-attention, so images + texts passes instead of images × texts) and re-scores only the
 * top k with the cross-encoder.
 */
public final class Retrieval {
  private Retrieval() {}

  /** The split's unique images and its texts, each text pointing at its image. */
  public record Set(INDArray images, INDArray ids, INDArray mask, int[] textImage) {
    public int numImages() {
      return (int) images.size(0);
    }

    public int numTexts() {
      return textImage.length;
    }
  }

  /** @param max keep at most this many pairs (0 = all), the first in file order */
  public static Set load(DataPipeline data, String split, int batch, int workers, int max) {
    List<DataRecord> recs = data.records(split);
    Map<String, DataRecord> byLoc = new HashMap<>();
    for (DataRecord r : recs) byLoc.put(r.location(), r);
    Map<String, Integer> imageIndex = new LinkedHashMap<>();
    List<INDArray> imgs = new ArrayList<>(), ids = new ArrayList<>(), masks = new ArrayList<>();
    List<Integer> textImage = new ArrayList<>();
    try (PrefetchingBatchIterator it = data.batches(split, BatchOptions.plain(), batch, 0, 0, false, false, workers)) {
      outer:
      while (it.hasNext()) {
        Batch b = it.next();
        for (int i = 0; i < b.size(); i++) {
          if (max > 0 && textImage.size() >= max) break outer;
          String key = byLoc.get(b.locations().get(i)).image().toString();
          Integer idx = imageIndex.get(key);
          if (idx == null) {
            idx = imageIndex.size();
            imageIndex.put(key, idx);
            imgs.add(b.get(BatchKeys.IMAGE).get(NDArrayIndex.interval(i, i + 1)).dup());
          }
          ids.add(b.get(BatchKeys.TEXT_IDS).get(NDArrayIndex.interval(i, i + 1)).dup());
          masks.add(b.get(BatchKeys.TEXT_MASK).get(NDArrayIndex.interval(i, i + 1)).dup());
          textImage.add(idx);
        }
      }
    }
    if (textImage.isEmpty()) throw new IllegalArgumentException("split '" + split + "' has no usable pairs");
    return new Set(Nd4j.concat(0, imgs.toArray(INDArray[]::new)), Nd4j.concat(0, ids.toArray(INDArray[]::new)),
        Nd4j.concat(0, masks.toArray(INDArray[]::new)), textImage.stream().mapToInt(Integer::intValue).toArray());
  }

  /**
   * Cross-encoder scores of the listed (image, text) pairs, {@code chunk} pairs per forward: the towers once per
   * image and per text of the set, the fusion module per pair ({@link PairScorer}).
   */
  static float[] scorePairs(TaskGraph g, Set s, int[] img, int[] txt, int chunk, ProgressBar pb) {
    return PairScorer.encode(g, s, chunk).score(img, txt, chunk, pb);
  }

  /** Every image against every text: the [images][texts] score matrix. */
  public static float[][] fullScores(TaskGraph g, Set s, int chunk, PrintStream progress) {
    int ni = s.numImages(), nt = s.numTexts();
    int[] img = new int[ni * nt], txt = new int[ni * nt];
    for (int i = 0, k = 0; i < ni; i++) for (int j = 0; j < nt; j++, k++) {
      img[k] = i;
      txt[k] = j;
    }
    float[] flat;
    try (ProgressBar pb = bar("irtr " + ni + "×" + nt, (long) ni * nt, progress)) {
      flat = scorePairs(g, s, img, txt, chunk, pb);
    }
    float[][] m = new float[ni][nt];
    for (int i = 0; i < ni; i++) System.arraycopy(flat, i * nt, m[i], 0, nt);
    return m;
  }

  /**
   * Fast mode: stage-1 cosine between the projected first tokens of the two fusion input streams (centred over the
   * set, which removes the per-modality offset), then the cross-encoder re-scores each image's top-k texts and
   * each text's top-k images. Pairs outside a shortlist keep their stage-1 order below every re-scored pair, so
   * R@K for K ≤ k depends only on whether the true pair made the shortlist and how the cross-encoder ranks it.
   */
  public static float[][] rerankScores(TaskGraph g, Set s, int k, int chunk, PrintStream progress) {
    int ni = s.numImages(), nt = s.numTexts();
    PairScorer ps = PairScorer.encode(g, s, chunk);
    float[][] stage1 = stage1(ps);
    float[][] out = new float[ni][nt];
    // below every cross-encoder score: stage-1 cosine in [-1, 1] shifted far down
    for (int i = 0; i < ni; i++) for (int j = 0; j < nt; j++) out[i][j] = stage1[i][j] - 1e6f;
    java.util.Set<Long> pairs = new java.util.LinkedHashSet<>();
    for (int i = 0; i < ni; i++) for (int j : topK(stage1[i], k)) pairs.add((long) i * nt + j);
    float[] col = new float[ni];
    for (int j = 0; j < nt; j++) {
      for (int i = 0; i < ni; i++) col[i] = stage1[i][j];
      for (int i : topK(col, k)) pairs.add((long) i * nt + j);
    }
    int[] img = new int[pairs.size()], txt = new int[pairs.size()];
    int p = 0;
    for (long key : pairs) {
      img[p] = (int) (key / nt);
      txt[p++] = (int) (key % nt);
    }
    float[] sc;
    try (ProgressBar pb = bar("irtr re-rank top-" + k, pairs.size(), progress)) {
      sc = ps.score(img, txt, chunk, pb);
    }
    for (int q = 0; q < sc.length; q++) out[img[q]][txt[q]] = sc[q];
    return out;
  }

  /** Centred cosine of fusion-input first tokens: one pass per image and one per text, not one per pair. */
  static float[][] stage1(TaskGraph g, Set s, int chunk) {
    return stage1(PairScorer.encode(g, s, chunk));
  }

  static float[][] stage1(PairScorer ps) {
    INDArray fi = unit(centre(ps.firstTokens(true)));
    INDArray ft = unit(centre(ps.firstTokens(false)));
    INDArray sim = fi.mmul(ft.transpose());
    float[][] m = new float[(int) fi.size(0)][];
    for (int i = 0; i < m.length; i++) m[i] = sim.getRow(i).toFloatVector();
    return m;
  }

  static INDArray centre(INDArray x) {
    return x.subRowVector(x.mean(0));
  }

  static INDArray unit(INDArray x) {
    INDArray norm = x.norm2(1).reshape(x.size(0), 1).add(1e-12);
    return x.divColumnVector(norm);
  }

  /** Indices of the k largest values (ties by index). */
  static int[] topK(float[] v, int k) {
    Integer[] idx = new Integer[v.length];
    for (int i = 0; i < v.length; i++) idx[i] = i;
    java.util.Arrays.sort(idx, (a, b) -> Float.compare(v[b], v[a]));
    int[] out = new int[Math.min(k, v.length)];
    for (int i = 0; i < out.length; i++) out[i] = idx[i];
    return out;
  }

  static ProgressBar bar(String task, long total, PrintStream progress) {
    ProgressBarBuilder b = new ProgressBarBuilder().setTaskName(task).setInitialMax(total).setStyle(ProgressBarStyle.ASCII)
        .setUpdateIntervalMillis(1000);
    if (progress != null) b.setConsumer(new me.tongfei.progressbar.ConsoleProgressBarConsumer(progress));
    return b.build();
  }
}
