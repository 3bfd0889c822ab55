package org.m3ae.weights;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Writes float32 {@code .safetensors} files. Tensors are supplied lazily so that a
 * checkpoint-sized file (SPEC §1.6: ~1.6 GB) can be written while holding one tensor at a time.
 */
public final class SafetensorsWriter {

  private record Pending(long[] shape, Supplier<float[]> data) {}

  private final Map<String, Pending> tensors = new LinkedHashMap<>();
  private final Map<String, String> metadata = new LinkedHashMap<>();

  public SafetensorsWriter add(String name, long[] shape, Supplier<float[]> data) {
    if (name.equals("__metadata__")) throw new IllegalArgumentException("reserved name " + name);
    if (tensors.putIfAbsent(name, new Pending(shape.clone(), data)) != null) {
      throw new IllegalArgumentException("duplicate tensor name " + name);
    }
    return this;
  }

  public SafetensorsWriter add(String name, long[] shape, float[] data) {
    return add(name, shape, () -> data);
  }

  /** Adds an array's values in row-major order with its shape. */
  public SafetensorsWriter add(String name, INDArray array) {
    return add(name, array.shape(), () -> array.castTo(DataType.FLOAT).dup('c').data().asFloat());
  }

  public SafetensorsWriter metadata(String key, String value) {
    metadata.put(key, value);
    return this;
  }

  /** Writes to a temporary sibling first so that a failed write never leaves a half file. */
  public void write(Path file) {
    ObjectMapper om = new ObjectMapper();
    ObjectNode header = om.createObjectNode();
    if (!metadata.isEmpty()) {
      ObjectNode m = header.putObject("__metadata__");
      metadata.forEach(m::put);
    }
    long offset = 0;
    for (Map.Entry<String, Pending> e : tensors.entrySet()) {
      long bytes = SafetensorsReader.numel(e.getValue().shape) * 4;
      ObjectNode t = header.putObject(e.getKey());
      t.put("dtype", "F32");
      ArrayNode sh = t.putArray("shape");
      for (long d : e.getValue().shape) sh.add(d);
      t.putArray("data_offsets").add(offset).add(offset + bytes);
      offset += bytes;
    }
    byte[] json;
    try {
      json = om.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new WeightsException(file + ": cannot encode header: " + e.getMessage(), e);
    }
    // The format pads the header with spaces so the data section starts 8-byte aligned.
    int padded = (json.length + 7) / 8 * 8;
    byte[] hdr = Arrays.copyOf(json, padded);
    Arrays.fill(hdr, json.length, padded, (byte) ' ');

    Path tmp = file.resolveSibling(file.getFileName() + ".part");
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE,
        StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
      ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
      writeAll(ch, len.flip());
      writeAll(ch, ByteBuffer.wrap(hdr));
      ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
      for (Map.Entry<String, Pending> e : tensors.entrySet()) {
        float[] data = e.getValue().data.get();
        long n = SafetensorsReader.numel(e.getValue().shape);
        if (data.length != n) {
          throw new WeightsException(file + ": key '" + e.getKey() + "': " + data.length
              + " values for shape " + Arrays.toString(e.getValue().shape));
        }
        for (float v : data) {
          if (!buf.hasRemaining()) {
            writeAll(ch, buf.flip());
            buf.clear();
          }
          buf.putFloat(v);
        }
      }
      writeAll(ch, buf.flip());
    } catch (IOException e) {
      throw new WeightsException(file + ": cannot write: " + e.getMessage(), e);
    }
    try {
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new WeightsException(file + ": cannot move " + tmp + " into place: " + e.getMessage(), e);
    }
  }

  private static void writeAll(FileChannel ch, ByteBuffer b) throws IOException {
    while (b.hasRemaining()) ch.write(b);
  }
}
