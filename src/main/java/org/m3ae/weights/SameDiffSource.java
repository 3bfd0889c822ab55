package org.m3ae.weights;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The trainable variables of a SameDiff graph as a tensor source. Unlike checkpoint sources its
 * tensors are in the graph's own layout (Linear weights {@code [in, out]}), so it is read with
 * identity rules only ({@link StudentInit}, {@link GraphKeyMap}).
 */
public final class SameDiffSource implements TensorSource {
  private final String origin;
  private final Map<String, INDArray> arrays = new LinkedHashMap<>();

  public SameDiffSource(SameDiff sd, String origin) {
    this.origin = origin;
    for (SDVariable v : sd.variables()) {
      if (v.getVariableType() == VariableType.VARIABLE && v.getArr() != null) arrays.put(v.name(), v.getArr());
    }
  }

  private INDArray get(String key) {
    INDArray a = arrays.get(key);
    if (a == null) throw new WeightsException(origin + ": no variable '" + key + "'");
    return a;
  }

  @Override
  public String origin() {
    return origin;
  }

  @Override
  public List<String> keys() {
    return new ArrayList<>(arrays.keySet());
  }

  @Override
  public boolean contains(String key) {
    return arrays.containsKey(key);
  }

  @Override
  public long[] shape(String key) {
    return get(key).shape();
  }

  @Override
  public float[] readFloats(String key) {
    return get(key).castTo(DataType.FLOAT).dup('c').data().asFloat();
  }
}
