package org.m3ae.weights;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import onnx.Onnx;

/**
 * Recovers module names for initializers that an exporter left anonymous (torch.onnx names a
 * Linear's transposed weight {@code onnx::MatMul_910}) by following the graph from the named
 * tensors next to them: a MatMul whose output is added to {@code X.bias} multiplies by {@code
 * X.weight}; a Mul whose output is added to {@code X.LayerNorm.bias} scales by {@code
 * X.LayerNorm.weight}. Only when no bias exists is the MatMul node's scope path used. It also
 * records which weights the graph consumes in {@code [in, out]} layout (MatMul B, Gemm without
 * transB) so they can be presented in PyTorch's {@code [out, in]} layout (see {@link TensorSource}).
 */
public final class OnnxWeightNames {

  /** How one initializer is presented. */
  public record Naming(String onnxName, String name, boolean storedInOut, String evidence) {}

  private final Map<String, Naming> byOnnxName = new LinkedHashMap<>();

  private OnnxWeightNames() {}

  public static OnnxWeightNames recover(Onnx.GraphProto g) {
    OnnxWeightNames r = new OnnxWeightNames();
    Map<String, Onnx.TensorProto> inits = new LinkedHashMap<>();
    for (Onnx.TensorProto t : g.getInitializerList()) inits.put(t.getName(), t);
    Map<String, Onnx.NodeProto> producer = new HashMap<>();
    Map<String, List<Onnx.NodeProto>> consumers = new HashMap<>();
    for (Onnx.NodeProto n : g.getNodeList()) {
      for (String o : n.getOutputList()) producer.put(o, n);
      for (String i : n.getInputList()) consumers.computeIfAbsent(i, k -> new ArrayList<>()).add(n);
    }

    for (Onnx.NodeProto n : g.getNodeList()) {
      switch (n.getOpType()) {
        case "MatMul" -> {
          if (n.getInputCount() < 2) continue;
          String b = n.getInput(1);
          boolean inOut = true;
          Onnx.NodeProto p = producer.get(b);
          if (!inits.containsKey(b) && p != null && p.getOpType().equals("Transpose")
              && isSwap2d(p) && inits.containsKey(p.getInput(0))) {
            b = p.getInput(0); // MatMul(x, Transpose(W)): W kept PyTorch's [out, in]
            inOut = false;
          }
          Onnx.TensorProto w = inits.get(b);
          if (w == null || w.getDimsCount() != 2) continue;
          String bias = addedInitializer(n.getOutput(0), consumers, inits, ".bias");
          r.name(w, inOut, bias, "bias '" + bias + "' added to MatMul '" + n.getName() + "'",
              scopeName(n.getName(), "MatMul"), "scope of MatMul node '" + n.getName() + "'");
        }
        case "Gemm" -> {
          if (n.getInputCount() < 2 || !inits.containsKey(n.getInput(1))) continue;
          boolean transB = n.getAttributeList().stream()
              .anyMatch(a -> a.getName().equals("transB") && a.getI() == 1);
          String bias = n.getInputCount() > 2 && inits.containsKey(n.getInput(2))
              && n.getInput(2).endsWith(".bias") ? n.getInput(2) : null;
          r.name(inits.get(n.getInput(1)), !transB, bias,
              "bias '" + bias + "' of Gemm '" + n.getName() + "'",
              scopeName(n.getName(), "Gemm"), "scope of Gemm node '" + n.getName() + "'");
        }
        case "Mul" -> { // decomposed LayerNorm: ((x - mean) / std) * gamma + beta
          for (String in : n.getInputList()) {
            Onnx.TensorProto gamma = inits.get(in);
            if (gamma == null || gamma.getDimsCount() != 1 || !anonymous(in)) continue;
            String beta = addedInitializer(n.getOutput(0), consumers, inits, "LayerNorm.bias");
            if (beta != null) {
              r.name(gamma, false, beta, "LayerNorm bias '" + beta + "' added after Mul '"
                  + n.getName() + "'", null, null);
            }
          }
        }
        case "LayerNormalization" -> {
          if (n.getInputCount() < 3 || !inits.containsKey(n.getInput(1))) continue;
          String beta = inits.containsKey(n.getInput(2)) && n.getInput(2).endsWith(".bias")
              ? n.getInput(2) : null;
          r.name(inits.get(n.getInput(1)), false, beta,
              "bias '" + beta + "' of LayerNormalization '" + n.getName() + "'", null, null);
        }
        default -> { }
      }
    }
    r.checkUnique(inits.keySet());
    return r;
  }

  private void name(Onnx.TensorProto w, boolean inOut, String bias, String biasEvidence,
      String scope, String scopeEvidence) {
    String onnxName = w.getName();
    if (byOnnxName.containsKey(onnxName)) return; // a tied weight keeps its first use's name
    if (!anonymous(onnxName)) {
      byOnnxName.put(onnxName, new Naming(onnxName, onnxName, inOut, "named in the file"));
    } else if (bias != null) {
      String name = bias.substring(0, bias.length() - "bias".length()) + "weight";
      byOnnxName.put(onnxName, new Naming(onnxName, name, inOut, biasEvidence));
    } else if (scope != null) {
      byOnnxName.put(onnxName, new Naming(onnxName, scope, inOut, scopeEvidence));
    }
  }

  private void checkUnique(Set<String> initNames) {
    Map<String, List<String>> byName = byOnnxName.values().stream()
        .collect(Collectors.groupingBy(Naming::name, Collectors.mapping(Naming::onnxName,
            Collectors.toList())));
    for (Map.Entry<String, List<String>> e : byName.entrySet()) {
      boolean clashesWithNamed = initNames.contains(e.getKey())
          && !e.getValue().contains(e.getKey());
      if (e.getValue().size() > 1 || clashesWithNamed) {
        throw new WeightsException("ONNX name recovery is ambiguous: initializers " + e.getValue()
            + " all resolve to '" + e.getKey() + "'");
      }
    }
  }

  /** torch.onnx names anonymous initializers after the consuming op: {@code onnx::MatMul_910}. */
  static boolean anonymous(String name) {
    return name.startsWith("onnx::") || !name.contains(".");
  }

  private static boolean isSwap2d(Onnx.NodeProto t) {
    for (Onnx.AttributeProto a : t.getAttributeList()) {
      if (a.getName().equals("perm")) {
        return a.getIntsCount() == 2 && a.getInts(0) == 1 && a.getInts(1) == 0;
      }
    }
    return true; // default perm reverses the axes
  }

  /** The initializer ending in {@code suffix} that an Add consuming {@code value} adds to it. */
  private static String addedInitializer(String value, Map<String, List<Onnx.NodeProto>> consumers,
      Map<String, Onnx.TensorProto> inits, String suffix) {
    for (Onnx.NodeProto c : consumers.getOrDefault(value, List.of())) {
      if (!c.getOpType().equals("Add") || c.getInputCount() != 2) continue;
      String other = c.getInput(0).equals(value) ? c.getInput(1) : c.getInput(0);
      if (inits.containsKey(other) && other.endsWith(suffix)) return other;
    }
    return null;
  }

  /** {@code /encoder/layer.0/attention/self/query/MatMul} → {@code encoder.layer.0...query.weight}. */
  static String scopeName(String nodeName, String op) {
    if (nodeName == null || !nodeName.startsWith("/")) return null;
    String[] parts = nodeName.substring(1).split("/");
    if (parts.length < 2 || !parts[parts.length - 1].startsWith(op)) return null;
    return String.join(".", java.util.Arrays.copyOf(parts, parts.length - 1)) + ".weight";
  }

  /** The naming of an initializer, or null when the graph gave no evidence for one. */
  public Naming naming(String onnxName) {
    return byOnnxName.get(onnxName);
  }

  /** Every anonymous initializer whose name was recovered. */
  public List<Naming> recovered() {
    return byOnnxName.values().stream().filter(x -> !x.name().equals(x.onnxName())).toList();
  }
}
