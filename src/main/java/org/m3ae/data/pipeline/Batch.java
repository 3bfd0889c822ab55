package org.m3ae.data.pipeline;

import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.MultiDataSet;

/**
 * One assembled batch: arrays keyed by {@link BatchKeys} (the placeholder names), plus the ids and
 * {@code file:line} of the records it holds, in row order.
 */
public record Batch(Map<String, INDArray> arrays, List<String> ids, List<String> locations) {

  public int size() {
    return ids.size();
  }

  public INDArray get(String key) {
    INDArray a = arrays.get(key);
    if (a == null) throw new IllegalArgumentException("batch has no array '" + key + "' (has " + arrays.keySet() + ")");
    return a;
  }

  public boolean has(String key) {
    return arrays.containsKey(key);
  }

  /** For {@code sd.fit}: features and labels in the order of the graph's data-set mapping. */
  public MultiDataSet toMultiDataSet(List<String> features, List<String> labels) {
    return new org.nd4j.linalg.dataset.MultiDataSet(
        features.stream().map(this::get).toArray(INDArray[]::new), labels.stream().map(this::get).toArray(INDArray[]::new));
  }
}
