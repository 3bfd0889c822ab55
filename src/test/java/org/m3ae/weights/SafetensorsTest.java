package org.m3ae.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reader checked against safetensors bytes assembled by hand here, and the writer against it. */
class SafetensorsTest {

  @TempDir Path dir;

  /** Assembles a file the way the format's specification lays it out. */
  private static byte[] file(String headerJson, byte[] data) {
    byte[] h = headerJson.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(h.length).put(h).put(data);
    return b.array();
  }

  private static byte[] le(int bytesPerValue, long... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * bytesPerValue).order(ByteOrder.LITTLE_ENDIAN);
    for (long v : values) {
      switch (bytesPerValue) {
        case 2 -> b.putShort((short) v);
        case 4 -> b.putInt((int) v);
        case 8 -> b.putLong(v);
        default -> throw new IllegalArgumentException();
      }
    }
    return b.array();
  }

  private Path write(String name, byte[] bytes) throws IOException {
    Path p = dir.resolve(name);
    Files.write(p, bytes);
    return p;
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    for (byte[] p : parts) o.writeBytes(p);
    return o.toByteArray();
  }

  @Test
  void readsHandBuiltFloatAndIntegerTypes() throws IOException {
    // 1.0, -2.0, 65504 (largest half), 2^-24 (smallest subnormal half), +inf
    byte[] f16 = le(2, 0x3C00, 0xC000, 0x7BFF, 0x0001, 0x7C00, 0x0000);
    // bfloat16: 1.0 and the top half of float32 pi (-3.140625 with the sign bit set)
    byte[] bf16 = le(2, 0x3F80, 0xC049);
    byte[] f32 = le(4, Float.floatToIntBits(0.5f), Float.floatToIntBits(-7.25f));
    byte[] i64 = le(8, 0, 1, 511);
    String header = "{\"__metadata__\":{\"format\":\"pt\"},"
        + "\"h\":{\"dtype\":\"F16\",\"shape\":[2,3],\"data_offsets\":[0,12]},"
        + "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[12,16]},"
        + "\"f\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[16,24]},"
        + "\"ids\":{\"dtype\":\"I64\",\"shape\":[1,3],\"data_offsets\":[24,48]}}";
    Path p = write("a.safetensors", file(header, concat(f16, bf16, f32, i64)));
    try (SafetensorsReader r = SafetensorsReader.open(p)) {
      assertEquals(List.of("h", "b", "f", "ids"), r.keys());
      assertEquals("pt", r.metadata().get("format"));
      assertArrayEquals(new long[] {2, 3}, r.shape("h"));
      assertArrayEquals(new float[] {1f, -2f, 65504f, (float) Math.pow(2, -24),
          Float.POSITIVE_INFINITY, 0f}, r.readFloats("h"));
      assertArrayEquals(new float[] {1f, -3.140625f}, r.readFloats("b"));
      assertArrayEquals(new float[] {0.5f, -7.25f}, r.readFloats("f"));
      assertArrayEquals(new float[] {0f, 1f, 511f}, r.readFloats("ids"));
      assertEquals("BF16", r.dtype("b"));
      assertArrayEquals(new long[] {1, 2}, r.read("f").shape());
    }
  }

  @Test
  void tensorsStraddlingSmallChunksReadIntact() throws IOException {
    Random rnd = new Random(3);
    float[] a = new float[37];
    for (int i = 0; i < a.length; i++) a[i] = rnd.nextFloat() - 0.5f;
    ByteBuffer data = ByteBuffer.allocate(2 + 4 * a.length).order(ByteOrder.LITTLE_ENDIAN);
    data.putShort((short) 0x4000); // F16 2.0 first, so the F32 tensor starts at odd-of-4 offset 2
    for (float v : a) data.putFloat(v);
    String header = "{\"two\":{\"dtype\":\"F16\",\"shape\":[],\"data_offsets\":[0,2]},"
        + "\"a\":{\"dtype\":\"F32\",\"shape\":[37],\"data_offsets\":[2," + (2 + 4 * 37) + "]}}";
    Path p = write("chunks.safetensors", file(header, data.array()));
    for (long chunk : new long[] {8, 9, 13, 64}) {
      try (SafetensorsReader r = SafetensorsReader.open(p, chunk)) {
        assertArrayEquals(a, r.readFloats("a"), "chunk " + chunk);
        assertArrayEquals(new float[] {2f}, r.readFloats("two"));
        assertEquals(0, r.shape("two").length);
      }
    }
  }

  @Test
  void readsTensorsBeyondTwoGigabytes() throws IOException {
    // A sparse file: only the header and the two tensors occupy disk blocks.
    long straddleAt = (1L << 31) - 6; // crosses the 2 GiB mark and the 1 GiB chunk boundary
    long farAt = (1L << 31) + (1L << 29);
    String header = "{\"gap\":{\"dtype\":\"U8\",\"shape\":[" + straddleAt + "],\"data_offsets\":[0,"
        + straddleAt + "]},"
        + "\"straddle\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[" + straddleAt + ","
        + (straddleAt + 16) + "]},"
        + "\"gap2\":{\"dtype\":\"U8\",\"shape\":[" + (farAt - straddleAt - 16)
        + "],\"data_offsets\":[" + (straddleAt + 16) + "," + farAt + "]},"
        + "\"far\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[" + farAt + ","
        + (farAt + 4) + "]}}";
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    Path p = dir.resolve("big.safetensors");
    try (RandomAccessFile raf = new RandomAccessFile(p.toFile(), "rw")) {
      ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length);
      raf.write(len.array());
      raf.write(h);
      long base = 8 + h.length;
      raf.seek(base + straddleAt);
      raf.write(le(4, Float.floatToIntBits(1.5f), Float.floatToIntBits(-2.5f),
          Float.floatToIntBits(3.25f), Float.floatToIntBits(1e-3f)));
      raf.seek(base + farAt);
      raf.write(le(2, 0x3F80, 0x4040));
    }
    assertTrue(Files.size(p) > (1L << 31));
    try (SafetensorsReader r = SafetensorsReader.open(p)) {
      assertArrayEquals(new float[] {1.5f, -2.5f, 3.25f, 1e-3f}, r.readFloats("straddle"));
      assertArrayEquals(new float[] {1f, 3f}, r.readFloats("far"));
    }
  }

  @Test
  void truncatedFileNamesFileAndKey() throws IOException {
    byte[] ok = file("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}",
        le(4, 1, 2, 3, 4));
    Path p = write("trunc.safetensors", java.util.Arrays.copyOf(ok, ok.length - 3));
    WeightsException e = assertThrows(WeightsException.class, () -> SafetensorsReader.open(p));
    assertTrue(e.getMessage().contains("trunc.safetensors"), e.getMessage());
    assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    assertTrue(e.getMessage().contains("'w'"), e.getMessage());

    Path q = write("trunc2.safetensors", java.util.Arrays.copyOf(ok, 20));
    WeightsException e2 = assertThrows(WeightsException.class, () -> SafetensorsReader.open(q));
    assertTrue(e2.getMessage().contains("truncated"), e2.getMessage());
  }

  @Test
  void headerLyingAboutOffsetsIsRejected() throws IOException {
    Path p = write("lie.safetensors",
        file("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,12]}}", le(4, 1, 2, 3, 4)));
    WeightsException e = assertThrows(WeightsException.class, () -> SafetensorsReader.open(p));
    assertTrue(e.getMessage().contains("lie.safetensors") && e.getMessage().contains("'w'")
        && e.getMessage().contains("offsets"), e.getMessage());

    Path q = write("lie2.safetensors",
        file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,4]}}", le(4, 1, 2, 3, 4)));
    assertThrows(WeightsException.class, () -> SafetensorsReader.open(q));
  }

  @Test
  void unknownDtypeIsRejectedWithKey() throws IOException {
    Path p = write("dt.safetensors",
        file("{\"w\":{\"dtype\":\"C64\",\"shape\":[1],\"data_offsets\":[0,8]}}", le(4, 1, 2)));
    WeightsException e = assertThrows(WeightsException.class, () -> SafetensorsReader.open(p));
    assertTrue(e.getMessage().contains("dt.safetensors") && e.getMessage().contains("'w'")
        && e.getMessage().contains("C64"), e.getMessage());
  }

  @Test
  void notJsonOrAbsurdHeaderLength() throws IOException {
    Path p = write("junk.safetensors", file("{not json", new byte[0]));
    assertTrue(assertThrows(WeightsException.class, () -> SafetensorsReader.open(p))
        .getMessage().contains("JSON"));
    Path q = write("junk2.safetensors", le(8, Long.MAX_VALUE / 2));
    assertThrows(WeightsException.class, () -> SafetensorsReader.open(q));
  }

  @Test
  void writerOutputParsesByTheFormatRules() throws IOException {
    float[] w = {1f, 2f, 3f, 4f, 5f, 6f};
    float[] b = {-0.25f};
    Path p = dir.resolve("w.safetensors");
    new SafetensorsWriter().metadata("source", "test").add("layer.weight", new long[] {2, 3}, w)
        .add("layer.bias", new long[] {1}, b).write(p);
    byte[] bytes = Files.readAllBytes(p);
    ByteBuffer bb = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    long n = bb.getLong();
    assertEquals(0, (8 + n) % 8, "data section must start 8-byte aligned");
    String json = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
    assertTrue(json.contains("\"layer.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}"), json);
    assertEquals(8 + n + 28, bytes.length);
    bb.position((int) (8 + n));
    for (float v : w) assertEquals(v, bb.getFloat());
    assertEquals(-0.25f, bb.getFloat());
    try (SafetensorsReader r = SafetensorsReader.open(p)) {
      assertEquals(List.of("layer.weight", "layer.bias"), r.keys());
      assertArrayEquals(w, r.readFloats("layer.weight"));
      assertEquals("test", r.metadata().get("source"));
    }
    assertTrue(Files.notExists(dir.resolve("w.safetensors.part")));
  }

  @Test
  void writerRejectsWrongValueCount() {
    Path p = dir.resolve("bad.safetensors");
    SafetensorsWriter wr = new SafetensorsWriter().add("x", new long[] {2, 2}, new float[3]);
    WeightsException e = assertThrows(WeightsException.class, () -> wr.write(p));
    assertTrue(e.getMessage().contains("'x'"), e.getMessage());
    assertTrue(Files.notExists(p));
  }
}
