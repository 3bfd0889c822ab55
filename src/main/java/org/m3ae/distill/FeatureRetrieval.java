package org.m3ae.distill;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.m3ae.data.DataRecord;
import org.m3ae.data.pipeline.Batch;
import org.m3ae.data.pipeline.BatchOptions;
import org.m3ae.data.pipeline.DataPipeline;
import org.m3ae.data.pipeline.PrefetchingBatchIterator;
import org.m3ae.distill.features.OfflineFeatures;
import org.m3ae.model.ModelConfig;
import org.m3ae.model.Names;
import org.m3ae.train.FeatureKind;
import org.m3ae.weights.TensorSource;
import org.m3ae.weights.TensorSources;
import org.m3ae.weights.WeightsException;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Dual-encoder retrieval through MMKD-CLIP's ICL head (SPEC §10): each image of a split goes through the model's
 * vision tower alone, its class token through the projection that the ICL term trained for teacher t
 * ({@link PretrainGraph#featureProjection}), and is scored against every caption's offline feature from that teacher by
 * cosine. This measures what the ICL term put into the vision tower, on records it never trained on, without the
 * fusion module or the ITM head: the LiT-style stage 0 of the MedPix teacher and a student's (c) variant are judged by
 * it. Only {@code feature_kd.student: unimodal} has a dual encoder to score; the fused features depend on the caption
 * they are paired with.
 */
public final class FeatureRetrieval {
  private FeatureRetrieval() {}

  /**
   * The split's unique images against its captions.
   *
   * @param scores [images][texts] cosine of the projected image feature and the teacher's caption feature
   * @param textImage image index of each caption, in file order
   */
  public record Scores(float[][] scores, int[] textImage) {
    public int numImages() {
      return scores.length;
    }
  }

  /**
   * The offline caption features of each of {@code teachers} in {@code dir}/&lt;teacher&gt;, checked to cover
   * {@code split} of {@code data}. Features are matched by record id: a split held out of the one they were extracted
   * from (a pipeline's holdout) is covered by them; any other split is refused, naming a record they lack.
   */
  public static Map<String, OfflineFeatures> captionFeatures(Path dir, List<String> teachers, DataPipeline data, String split) {
    if (!data.splits().contains(split)) throw new IllegalArgumentException("no split '" + split + "' to score (has " + data.splits() + ")");
    Map<String, OfflineFeatures> feats = new LinkedHashMap<>();
    for (String t : teachers) {
      OfflineFeatures f = OfflineFeatures.load(dir.resolve(t));
      PretrainRun.checkCoverage(f, data, split);
      feats.put(t, f);
    }
    return feats;
  }

  /**
   * Scores the first {@code max} pairs (0 = all) of {@code split} in file order.
   *
   * @param weights a pre-training run's weights: the model and the ICL projection for {@code teacher}
   * @param captions the teacher's offline features of the same split (every record scored must be there)
   */
  public static Scores score(ModelConfig cfg, Path weights, String teacher, OfflineFeatures captions, DataPipeline data,
      String split, int batch, int workers, int max) {
    if (!captions.dims().containsKey(FeatureKind.TEXT)) {
      throw new IllegalArgumentException(captions.dir() + ": teacher '" + teacher + "' has no text features to retrieve");
    }
    String wk = PretrainGraph.featureProjection(teacher, FeatureKind.IMAGE) + ".weight";
    String bk = PretrainGraph.featureProjection(teacher, FeatureKind.IMAGE) + ".bias";
    INDArray w, b;
    try (TensorSource src = TensorSources.open(weights)) {
      if (!src.contains(wk) || !src.contains(bk)) {
        throw new WeightsException(weights + ": no " + wk + " / .bias: the run that wrote it did not train ICL against "
            + "teacher '" + teacher + "' with feature_kd.student: unimodal");
      }
      w = src.read(wk);
      b = src.read(bk);
    }
    int ds = cfg.vision().encoder().width(), dt = captions.dims().get(FeatureKind.TEXT);
    if (w.rank() != 2 || w.size(0) != ds || w.size(1) != dt || b.length() != dt) {
      throw new WeightsException(weights + ": " + wk + " is " + java.util.Arrays.toString(w.shape())
          + " / " + java.util.Arrays.toString(b.shape()) + ", expected [" + ds + ", " + dt + "] / [" + dt + "] (vision width "
          + ds + " of " + cfg.name() + " → teacher width " + dt + ")");
    }
    Teacher model = Teacher.load(cfg, weights);
    model.request(List.of(Names.VISION_OUT));

    Map<String, DataRecord> byLoc = new HashMap<>();
    for (DataRecord r : data.records(split)) byLoc.put(r.location(), r);
    Map<String, Integer> imageIndex = new LinkedHashMap<>();
    List<INDArray> images = new ArrayList<>(), texts = new ArrayList<>();
    List<Integer> textImage = new ArrayList<>();
    try (PrefetchingBatchIterator it = data.batches(split, BatchOptions.plain(), batch, 0, 0, false, false, workers)) {
      outer:
      while (it.hasNext()) {
        Batch bt = it.next();
        if (bt.size() == 0) continue;
        INDArray cls = null; //                                                     [B, Dv], computed once per batch
        for (int i = 0; i < bt.size(); i++) {
          if (max > 0 && textImage.size() >= max) break outer;
          String key = byLoc.get(bt.locations().get(i)).image().toString();
          Integer idx = imageIndex.get(key);
          if (idx == null) {
            if (cls == null) {
              INDArray out = model.forward(bt).get(Names.VISION_OUT); //           [B, Li, Dv]
              cls = out.get(NDArrayIndex.all(), NDArrayIndex.point(0), NDArrayIndex.all()).castTo(DataType.FLOAT).dup();
            }
            idx = imageIndex.size();
            imageIndex.put(key, idx);
            images.add(unit(cls.getRow(i, true).mmul(w).addiRowVector(b))); //     [1, Dt]
          }
          texts.add(unit(captions.lookup(FeatureKind.TEXT, List.of(bt.ids().get(i)), List.of(bt.locations().get(i)))));
          textImage.add(idx);
        }
      }
    }
    if (textImage.isEmpty()) throw new IllegalArgumentException("split '" + split + "' has no usable pairs");
    INDArray s = Nd4j.vstack(images.toArray(INDArray[]::new)).mmul(Nd4j.vstack(texts.toArray(INDArray[]::new)).transpose());
    return new Scores(s.toFloatMatrix(), textImage.stream().mapToInt(Integer::intValue).toArray());
  }

  private static INDArray unit(INDArray row) { //                                [1, D]
    return row.div(row.norm2Number().doubleValue());
  }
}
