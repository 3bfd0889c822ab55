package org.m3ae.weights;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import onnx.Onnx;

/** Decodes the values of an ONNX {@code TensorProto} (inline, raw or external data) to float32. */
final class OnnxTensorData {
  private OnnxTensorData() {}

  static long[] shape(Onnx.TensorProto t) {
    long[] s = new long[t.getDimsCount()];
    for (int i = 0; i < s.length; i++) s[i] = t.getDims(i);
    return s;
  }

  static float[] floats(Onnx.TensorProto t, Path modelFile) {
    long n = SafetensorsReader.numel(shape(t));
    if (n > Integer.MAX_VALUE - 8) {
      throw new WeightsException(modelFile + ": initializer '" + t.getName() + "' is too large");
    }
    int count = (int) n;
    int dt = t.getDataType();
    float[] out = new float[count];
    ByteBuffer raw = rawBytes(t, modelFile);
    if (raw != null) {
      SafetensorsDType st = storage(dt, t, modelFile);
      if (raw.remaining() != (long) count * st.size) {
        throw new WeightsException(modelFile + ": initializer '" + t.getName() + "' holds "
            + raw.remaining() + " bytes, shape needs " + (long) count * st.size);
      }
      for (int i = 0; i < count; i++) out[i] = st.next(raw);
      return out;
    }
    // Typed repeated fields: float16/bfloat16 travel as their bit patterns in int32_data.
    switch (dt) {
      case Onnx.TensorProto.DataType.FLOAT_VALUE -> fill(out, t.getFloatDataCount(), t, i -> t.getFloatData(i), modelFile);
      case Onnx.TensorProto.DataType.DOUBLE_VALUE -> fill(out, t.getDoubleDataCount(), t, i -> (float) t.getDoubleData(i), modelFile);
      case Onnx.TensorProto.DataType.INT64_VALUE -> fill(out, t.getInt64DataCount(), t, i -> (float) t.getInt64Data(i), modelFile);
      case Onnx.TensorProto.DataType.FLOAT16_VALUE -> fill(out, t.getInt32DataCount(), t, i -> HalfFloats.f16ToFloat((short) t.getInt32Data(i)), modelFile);
      case Onnx.TensorProto.DataType.BFLOAT16_VALUE -> fill(out, t.getInt32DataCount(), t, i -> HalfFloats.bf16ToFloat((short) t.getInt32Data(i)), modelFile);
      case Onnx.TensorProto.DataType.INT32_VALUE, Onnx.TensorProto.DataType.INT8_VALUE,
          Onnx.TensorProto.DataType.UINT8_VALUE, Onnx.TensorProto.DataType.INT16_VALUE,
          Onnx.TensorProto.DataType.BOOL_VALUE -> fill(out, t.getInt32DataCount(), t, i -> (float) t.getInt32Data(i), modelFile);
      default -> throw new WeightsException(modelFile + ": initializer '" + t.getName()
          + "' has ONNX data type " + dt + ", which cannot be read as float");
    }
    return out;
  }

  private interface IntToFloat {
    float at(int i);
  }

  private static void fill(float[] out, int have, Onnx.TensorProto t, IntToFloat f, Path file) {
    if (have != out.length) {
      throw new WeightsException(file + ": initializer '" + t.getName() + "' holds " + have
          + " values, shape needs " + out.length);
    }
    for (int i = 0; i < have; i++) out[i] = f.at(i);
  }

  private static SafetensorsDType storage(int dt, Onnx.TensorProto t, Path file) {
    return switch (dt) {
      case Onnx.TensorProto.DataType.FLOAT_VALUE -> SafetensorsDType.F32;
      case Onnx.TensorProto.DataType.DOUBLE_VALUE -> SafetensorsDType.F64;
      case Onnx.TensorProto.DataType.FLOAT16_VALUE -> SafetensorsDType.F16;
      case Onnx.TensorProto.DataType.BFLOAT16_VALUE -> SafetensorsDType.BF16;
      case Onnx.TensorProto.DataType.INT64_VALUE -> SafetensorsDType.I64;
      case Onnx.TensorProto.DataType.INT32_VALUE -> SafetensorsDType.I32;
      case Onnx.TensorProto.DataType.INT16_VALUE -> SafetensorsDType.I16;
      case Onnx.TensorProto.DataType.INT8_VALUE -> SafetensorsDType.I8;
      case Onnx.TensorProto.DataType.UINT8_VALUE -> SafetensorsDType.U8;
      case Onnx.TensorProto.DataType.BOOL_VALUE -> SafetensorsDType.BOOL;
      default -> throw new WeightsException(file + ": initializer '" + t.getName()
          + "' has ONNX data type " + dt + ", which cannot be read as float");
    };
  }

  /** Raw little-endian bytes, from the message or from the external file beside the model. */
  private static ByteBuffer rawBytes(Onnx.TensorProto t, Path modelFile) {
    if (t.getDataLocation() == Onnx.TensorProto.DataLocation.EXTERNAL) {
      String location = null;
      long offset = 0;
      long length = -1;
      for (Onnx.StringStringEntryProto kv : t.getExternalDataList()) {
        switch (kv.getKey()) {
          case "location" -> location = kv.getValue();
          case "offset" -> offset = Long.parseLong(kv.getValue());
          case "length" -> length = Long.parseLong(kv.getValue());
          default -> { }
        }
      }
      if (location == null) {
        throw new WeightsException(modelFile + ": initializer '" + t.getName()
            + "' is external but names no location");
      }
      Path ext = modelFile.toAbsolutePath().getParent().resolve(location);
      try (FileChannel ch = FileChannel.open(ext, StandardOpenOption.READ)) {
        if (length < 0) length = ch.size() - offset;
        if (offset + length > ch.size()) {
          throw new WeightsException(ext + ": truncated: initializer '" + t.getName()
              + "' needs bytes [" + offset + ", " + (offset + length) + ")");
        }
        ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(length));
        while (b.hasRemaining()) {
          if (ch.read(b, offset + b.position()) < 0) break;
        }
        return b.flip().order(ByteOrder.LITTLE_ENDIAN);
      } catch (IOException e) {
        throw new WeightsException(ext + ": cannot read external data of '" + t.getName()
            + "': " + e.getMessage(), e);
      }
    }
    if (t.getRawData().isEmpty()) return null;
    return t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }
}
