package org.m3ae.weights;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import onnx.Onnx;

/**
 * The initializers of an {@code .onnx} file as a {@link TensorSource}: anonymous weights under
 * the module names {@link OnnxWeightNames} recovered, and {@code [in, out]} weights transposed to
 * PyTorch's layout so that BERT-family and M3AE key maps apply unchanged. Full graph import fails
 * on real BERT exports in DL4J 1.0.0-M2.1 (see docs/weights.md); the weights alone are reliable.
 */
public final class OnnxInitializers implements TensorSource {

  private record Item(Onnx.TensorProto tensor, boolean transpose) {}

  private final Path file;
  private final Onnx.ModelProto model;
  private final OnnxWeightNames names;
  private final Map<String, Item> items = new LinkedHashMap<>();

  private OnnxInitializers(Path file, Onnx.ModelProto model) {
    this.file = file;
    this.model = model;
    this.names = OnnxWeightNames.recover(model.getGraph());
    for (Onnx.TensorProto t : model.getGraph().getInitializerList()) {
      OnnxWeightNames.Naming n = names.naming(t.getName());
      String key = n == null ? t.getName() : n.name();
      boolean transpose = n != null && n.storedInOut() && t.getDimsCount() == 2;
      if (items.put(key, new Item(t, transpose)) != null) {
        throw new WeightsException(file + ": two initializers map to '" + key + "'");
      }
    }
  }

  public static OnnxInitializers open(Path file) {
    return new OnnxInitializers(file, OnnxModels.parse(file));
  }

  public Onnx.ModelProto model() {
    return model;
  }

  public List<OnnxWeightNames.Naming> recoveredNames() {
    return names.recovered();
  }

  /** The initializer's name inside the ONNX file. */
  public String onnxName(String key) {
    return item(key).tensor.getName();
  }

  private Item item(String key) {
    Item i = items.get(key);
    if (i == null) throw new WeightsException(file + ": no initializer named '" + key + "'");
    return i;
  }

  @Override
  public String origin() {
    return file.toString();
  }

  @Override
  public List<String> keys() {
    return Collections.unmodifiableList(new ArrayList<>(items.keySet()));
  }

  @Override
  public boolean contains(String key) {
    return items.containsKey(key);
  }

  @Override
  public long[] shape(String key) {
    Item i = item(key);
    long[] s = OnnxTensorData.shape(i.tensor);
    return i.transpose ? new long[] {s[1], s[0]} : s;
  }

  @Override
  public float[] readFloats(String key) {
    Item i = item(key);
    float[] v = OnnxTensorData.floats(i.tensor, file);
    if (!i.transpose) return v;
    long[] s = OnnxTensorData.shape(i.tensor);
    int rows = (int) s[0];
    int cols = (int) s[1];
    float[] t = new float[v.length];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) t[c * rows + r] = v[r * cols + c];
    }
    return t;
  }
}
