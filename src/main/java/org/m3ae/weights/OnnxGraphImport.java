package org.m3ae.weights;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import onnx.Onnx;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.samediff.frameworkimport.onnx.importer.OnnxFrameworkImporter;

/**
 * Full-graph ONNX import with DL4J's {@code OnnxFrameworkImporter}, and a diagnosis when it fails.
 * In 1.0.0-M2.1 the importer fails on real BERT exports (DL4J-NOTES: an NPE in Unsqueeze, then an
 * index error after constant folding); the exception does not say where, so the failing node is
 * found by importing growing prefixes of the node list (binary search on the first prefix that
 * fails). A pre-pass turns {@code Constant} nodes into initializers, the form the importer's
 * Unsqueeze expects for its axes.
 */
public final class OnnxGraphImport {
  private OnnxGraphImport() {}

  /** The failing node and the importer's error. */
  public record Failure(int nodeIndex, String nodeName, String opType, List<String> inputs,
      String error) {
    public String describe() {
      return "node #" + nodeIndex + " '" + nodeName + "' (op " + opType + ", inputs " + inputs
          + "): " + error;
    }
  }

  /** {@code rawError}: how the unmodified model failed (null if it imported). */
  public record Outcome(SameDiff graph, Failure failure, String rawError, boolean prepassed,
      int constantsFolded, long millis) {}

  /** Constant nodes become initializers named after their output. */
  public static Onnx.ModelProto constantsToInitializers(Onnx.ModelProto m, int[] count) {
    Onnx.GraphProto.Builder g = m.getGraph().toBuilder();
    List<Onnx.NodeProto> keep = new ArrayList<>();
    int n = 0;
    for (Onnx.NodeProto node : g.getNodeList()) {
      Onnx.AttributeProto value = node.getOpType().equals("Constant") && node.getAttributeCount() == 1
          && node.getAttribute(0).getName().equals("value") ? node.getAttribute(0) : null;
      if (value == null) {
        keep.add(node);
        continue;
      }
      g.addInitializer(value.getT().toBuilder().setName(node.getOutput(0)).build());
      n++;
    }
    g.clearNode().addAllNode(keep);
    count[0] = n;
    return m.toBuilder().setGraph(g).build();
  }

  /** Tries the model as is, then with the pre-pass; diagnoses the pre-passed model if both fail. */
  public static Outcome run(Path onnx, Path workDir) {
    long t0 = System.nanoTime();
    Onnx.ModelProto m = OnnxModels.parse(onnx);
    Throwable first;
    try {
      return new Outcome(attempt(onnx), null, null, false, 0, ms(t0));
    } catch (Throwable e) {
      first = e;
    }
    int[] folded = new int[1];
    Onnx.ModelProto pre = constantsToInitializers(m, folded);
    try {
      return new Outcome(attempt(write(pre, workDir, "prepass")), null, message(first), true, folded[0], ms(t0));
    } catch (Throwable e) {
      Failure f = bisect(pre, workDir);
      if (f == null) {
        f = new Failure(-1, "?", "?", List.of(), "whole graph fails but every prefix imports: "
            + message(e) + " (without the pre-pass: " + message(first) + ")");
      }
      return new Outcome(null, f, message(first), true, folded[0], ms(t0));
    }
  }

  private static long ms(long t0) {
    return (System.nanoTime() - t0) / 1_000_000;
  }

  /** The importer prints its graph listings to stdout; they are muted so the diagnosis stays readable. */
  static SameDiff attempt(Path file) {
    java.io.PrintStream out = System.out;
    System.setOut(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
    try {
      return new OnnxFrameworkImporter().runImport(file.toString(), Collections.emptyMap(), false);
    } finally {
      System.setOut(out);
    }
  }

  private static Path write(Onnx.ModelProto m, Path dir, String name) {
    try {
      Path p = Files.createTempFile(dir, name, ".onnx");
      Files.write(p, m.toByteArray());
      return p;
    } catch (IOException e) {
      throw new WeightsException(dir + ": cannot write a temporary model: " + e.getMessage(), e);
    }
  }

  /** The model cut after {@code k} nodes, the last node's outputs becoming graph outputs. */
  static Onnx.ModelProto prefix(Onnx.ModelProto m, int k) {
    Onnx.GraphProto.Builder g = m.getGraph().toBuilder();
    List<Onnx.NodeProto> nodes = new ArrayList<>(g.getNodeList().subList(0, k));
    g.clearNode().addAllNode(nodes).clearOutput();
    for (String o : nodes.get(k - 1).getOutputList()) {
      g.addOutput(Onnx.ValueInfoProto.newBuilder().setName(o));
    }
    return m.toBuilder().setGraph(g).build();
  }

  /** Smallest k whose prefix fails to import; node k−1 is the culprit. Null if none fails. */
  static Failure bisect(Onnx.ModelProto m, Path dir) {
    int lo = 1;
    int hi = m.getGraph().getNodeCount();
    String err = null;
    if (tryPrefix(m, hi, dir) == null) return null;
    while (lo < hi) {
      int mid = (lo + hi) / 2;
      String e = tryPrefix(m, mid, dir);
      if (e != null) {
        hi = mid;
        err = e;
      } else {
        lo = mid + 1;
      }
    }
    if (err == null) err = tryPrefix(m, lo, dir);
    Onnx.NodeProto n = m.getGraph().getNode(lo - 1);
    return new Failure(lo - 1, n.getName(), n.getOpType(), n.getInputList(), err);
  }

  private static String tryPrefix(Onnx.ModelProto m, int k, Path dir) {
    Path p = write(prefix(m, k), dir, "prefix" + k + "-");
    try {
      attempt(p);
      return null;
    } catch (Throwable e) {
      return message(e);
    } finally {
      try {
        Files.deleteIfExists(p);
      } catch (IOException ignored) {
        // a temporary file left in the work directory
      }
    }
  }

  static String message(Throwable e) {
    StackTraceElement at = null;
    for (StackTraceElement s : e.getStackTrace()) {
      if (s.getClassName().contains("frameworkimport")) {
        at = s;
        break;
      }
    }
    return e.getClass().getSimpleName() + ": " + e.getMessage() + (at == null ? "" : " at " + at);
  }
}
