package org.m3ae.distill.features;

import java.util.List;
import java.util.Map;
import org.m3ae.data.pipeline.Batch;
import org.m3ae.train.FeatureKind;
import org.nd4j.linalg.api.ndarray.INDArray;

/** A frozen model that turns a batch of pairs into per-pair feature vectors, one [B, D] array per kind. */
public interface FeatureTeacher extends AutoCloseable {
  /** The kinds it produces and their widths. */
  Map<FeatureKind, Integer> dims();

  /**
   * @param texts the batch's captions, row-aligned with {@code batch} (text encoders tokenise them themselves)
   */
  Map<FeatureKind, INDArray> features(Batch batch, List<String> texts);

  @Override
  default void close() {}
}
