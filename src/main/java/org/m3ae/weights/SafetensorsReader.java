package org.m3ae.weights;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a {@code .safetensors} file: an 8-byte little-endian header length, a JSON header, then the
 * raw tensor bytes. The data section is memory-mapped in chunks because one {@link
 * MappedByteBuffer} cannot exceed 2 GB and a converted M3AE state_dict is ~1.6 GB in float32
 * (SPEC §1.6), more for larger exports; a tensor may straddle chunk boundaries.
 */
public final class SafetensorsReader implements TensorSource {

  /** Largest header accepted; the format's reference implementation uses the same 100 MB cap. */
  private static final long MAX_HEADER = 100L * 1024 * 1024;

  static final long DEFAULT_CHUNK = 1L << 30;

  private record Entry(SafetensorsDType dtype, long[] shape, long begin, long end) {}

  private final Path file;
  private final FileChannel channel;
  private final long dataStart;
  private final long dataLength;
  private final long chunkBytes;
  private final MappedByteBuffer[] chunks;
  private final Map<String, Entry> entries = new LinkedHashMap<>();
  private final Map<String, String> metadata = new LinkedHashMap<>();

  private SafetensorsReader(Path file, long chunkBytes) throws IOException {
    this.file = file;
    this.chunkBytes = chunkBytes;
    this.channel = FileChannel.open(file, StandardOpenOption.READ);
    boolean ok = false;
    try {
      long size = channel.size();
      if (size < 8) throw fail("file is truncated: " + size + " bytes, no header length");
      ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      readFully(lenBuf, 0);
      long headerLen = lenBuf.flip().getLong();
      if (headerLen < 2 || headerLen > MAX_HEADER) {
        throw fail("header length " + headerLen + " is not plausible (not a safetensors file?)");
      }
      if (8 + headerLen > size) {
        throw fail("file is truncated: header claims " + headerLen + " bytes but the file has "
            + size + " bytes in total");
      }
      ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
      readFully(hb, 8);
      parseHeader(new String(hb.array(), StandardCharsets.UTF_8));
      this.dataStart = 8 + headerLen;
      this.dataLength = size - dataStart;
      validateOffsets();
      int n = (int) ((dataLength + chunkBytes - 1) / chunkBytes);
      this.chunks = new MappedByteBuffer[n];
      for (int i = 0; i < n; i++) {
        long pos = (long) i * chunkBytes;
        chunks[i] = channel.map(FileChannel.MapMode.READ_ONLY, dataStart + pos,
            Math.min(chunkBytes, dataLength - pos));
      }
      ok = true;
    } finally {
      if (!ok) channel.close();
    }
  }

  public static SafetensorsReader open(Path file) {
    return open(file, DEFAULT_CHUNK);
  }

  /**
   * The file mapped in chunks of {@code chunkBytes} (8 … 2^31 − 1; {@link #open(Path)} maps 1 GiB at a time): a
   * tensor that straddles two chunks is read across them, so any chunk size reads the same values.
   */
  public static SafetensorsReader open(Path file, long chunkBytes) {
    if (chunkBytes < 8 || chunkBytes > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("chunk size " + chunkBytes);
    }
    try {
      return new SafetensorsReader(file, chunkBytes);
    } catch (IOException e) {
      throw new WeightsException(file + ": cannot read: " + e.getMessage(), e);
    }
  }

  private void readFully(ByteBuffer dst, long pos) throws IOException {
    while (dst.hasRemaining()) {
      int r = channel.read(dst, pos);
      if (r < 0) throw fail("file is truncated while reading the header");
      pos += r;
    }
  }

  private void parseHeader(String json) {
    JsonNode root;
    try {
      root = new ObjectMapper().readTree(json);
    } catch (IOException e) {
      throw fail("header is not valid JSON: " + e.getMessage());
    }
    if (root == null || !root.isObject()) throw fail("header is not a JSON object");
    for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> f = it.next();
      String key = f.getKey();
      JsonNode v = f.getValue();
      if (key.equals("__metadata__")) {
        v.fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
        continue;
      }
      JsonNode dt = v.get("dtype");
      JsonNode sh = v.get("shape");
      JsonNode off = v.get("data_offsets");
      if (dt == null || sh == null || off == null || !sh.isArray() || !off.isArray()
          || off.size() != 2) {
        throw fail("key '" + key + "': header entry needs dtype, shape and two data_offsets");
      }
      SafetensorsDType dtype = SafetensorsDType.parse(dt.asText());
      if (dtype == null) {
        throw fail("key '" + key + "': unknown dtype '" + dt.asText() + "' (supported: "
            + Arrays.toString(SafetensorsDType.values()) + ")");
      }
      long[] shape = new long[sh.size()];
      for (int i = 0; i < shape.length; i++) {
        if (!sh.get(i).canConvertToLong() || sh.get(i).asLong() < 0) {
          throw fail("key '" + key + "': bad shape " + sh);
        }
        shape[i] = sh.get(i).asLong();
      }
      entries.put(key, new Entry(dtype, shape, off.get(0).asLong(), off.get(1).asLong()));
    }
  }

  private void validateOffsets() {
    for (Map.Entry<String, Entry> e : entries.entrySet()) {
      Entry t = e.getValue();
      long expected = Math.multiplyExact(numel(t.shape), (long) t.dtype.size);
      if (t.begin < 0 || t.end < t.begin) {
        throw fail("key '" + e.getKey() + "': header lies about offsets: data_offsets ["
            + t.begin + ", " + t.end + "]");
      }
      if (t.end - t.begin != expected) {
        throw fail("key '" + e.getKey() + "': header lies about offsets: data_offsets ["
            + t.begin + ", " + t.end + "] span " + (t.end - t.begin) + " bytes but "
            + t.dtype + Arrays.toString(t.shape) + " needs " + expected);
      }
      if (t.end > dataLength) {
        throw fail("file is truncated: key '" + e.getKey() + "' needs data bytes [" + t.begin
            + ", " + t.end + ") but the data section holds only " + dataLength + " bytes");
      }
    }
  }

  static long numel(long[] shape) {
    long n = 1;
    for (long d : shape) n = Math.multiplyExact(n, d);
    return n;
  }

  private WeightsException fail(String msg) {
    return new WeightsException(file + ": " + msg);
  }

  private Entry entry(String key) {
    Entry e = entries.get(key);
    if (e == null) throw fail("no tensor named '" + key + "'");
    return e;
  }

  @Override
  public String origin() {
    return file.toString();
  }

  @Override
  public List<String> keys() {
    return Collections.unmodifiableList(new ArrayList<>(entries.keySet()));
  }

  @Override
  public boolean contains(String key) {
    return entries.containsKey(key);
  }

  @Override
  public long[] shape(String key) {
    return entry(key).shape.clone();
  }

  /** The dtype name as written in the header (e.g. {@code "BF16"}). */
  public String dtype(String key) {
    return entry(key).dtype.name();
  }

  public Map<String, String> metadata() {
    return Collections.unmodifiableMap(metadata);
  }

  @Override
  public float[] readFloats(String key) {
    Entry e = entry(key);
    long n = numel(e.shape);
    if (n > Integer.MAX_VALUE - 8) {
      throw fail("key '" + key + "': " + n + " elements do not fit one Java array");
    }
    float[] out = new float[(int) n];
    int es = e.dtype.size;
    // Elements are decoded from a small staging buffer so that one straddling a chunk boundary
    // is assembled from both mappings.
    ByteBuffer stage = ByteBuffer.allocate((int) Math.min(1 << 20, Math.max(es, n * es)) + es)
        .order(ByteOrder.LITTLE_ENDIAN);
    long pos = e.begin;
    int k = 0;
    while (pos < e.end) {
      int ci = (int) (pos / chunkBytes);
      int within = (int) (pos - (long) ci * chunkBytes);
      ByteBuffer src = chunks[ci].duplicate();
      int len = (int) Math.min(Math.min(stage.remaining(), src.limit() - within), e.end - pos);
      src.position(within).limit(within + len);
      stage.put(src);
      pos += len;
      stage.flip();
      while (stage.remaining() >= es) out[k++] = e.dtype.next(stage);
      stage.compact();
    }
    return out;
  }

  @Override
  public void close() {
    try {
      channel.close();
    } catch (IOException ignored) {
      // read-only channel: nothing to flush
    }
  }
}
