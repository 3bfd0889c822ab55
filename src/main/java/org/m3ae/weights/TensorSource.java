package org.m3ae.weights;

import java.io.Closeable;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A named set of tensors in PyTorch layout (Linear weights {@code [out, in]}), whatever the file
 * format. Key maps (SPEC §4) are written once against this layout, so safetensors files and ONNX
 * exports go through the same transforms.
 */
public interface TensorSource extends Closeable {

  /** The file (or other origin) this source reads, for error messages. */
  String origin();

  /** Every tensor name, in file order. */
  List<String> keys();

  boolean contains(String key);

  /** The tensor's shape in PyTorch layout; throws {@link WeightsException} for an unknown key. */
  long[] shape(String key);

  /** The tensor's values, row-major, converted to float32. */
  float[] readFloats(String key);

  /** The tensor as a float32 array of {@link #shape}. */
  default INDArray read(String key) {
    long[] shape = shape(key);
    float[] data = readFloats(key);
    if (shape.length == 0) return Nd4j.scalar(data[0]);
    return Nd4j.create(data, shape, 'c').castTo(DataType.FLOAT);
  }

  @Override
  default void close() {}
}
