package org.m3ae.weights;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import onnx.Onnx;
import org.nd4j.shade.protobuf.CodedInputStream;

/** Parses {@code .onnx} files with the protobuf classes that ship with ND4J. */
public final class OnnxModels {
  private OnnxModels() {}

  /**
   * Protobuf's default 64 MB message limit rejects every real transformer export (MiniLM alone is
   * 91 MB); the format's own ceiling is 2 GB, beyond which exporters use external data files.
   */
  public static Onnx.ModelProto parse(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      CodedInputStream cis = CodedInputStream.newInstance(in, 1 << 20);
      cis.setSizeLimit(Integer.MAX_VALUE);
      Onnx.ModelProto m = Onnx.ModelProto.parseFrom(cis);
      if (!m.hasGraph()) throw new WeightsException(file + ": not an ONNX model (no graph)");
      return m;
    } catch (IOException e) {
      throw new WeightsException(file + ": cannot parse as ONNX: " + e.getMessage(), e);
    }
  }
}
