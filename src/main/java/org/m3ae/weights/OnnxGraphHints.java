package org.m3ae.weights;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import onnx.Onnx;

/**
 * What an ONNX export of a BERT-family encoder says about the settings its tensors cannot: the number of attention
 * heads, read from the constants of the reshape that splits a projection into {@code [B, L, heads, head_dim]}; the
 * LayerNorm epsilon, from {@code Sqrt(Add(ReduceMean(..), eps))} or a {@code LayerNormalization} node; RoBERTa-style
 * position ids ({@code CumSum} over the non-pad mask); exact GELU ({@code Erf}). Each is null when the graph does not
 * show it unambiguously.
 */
public final class OnnxGraphHints {
  public final Integer heads;
  public final Double lnEps;
  public final boolean cumulativePositions;
  public final boolean erfGelu;

  private OnnxGraphHints(Integer heads, Double lnEps, boolean cumulativePositions, boolean erfGelu) {
    this.heads = heads;
    this.lnEps = lnEps;
    this.cumulativePositions = cumulativePositions;
    this.erfGelu = erfGelu;
  }

  /** @param width the encoder's hidden size (from the tensors): a head split must multiply back to it */
  public static OnnxGraphHints of(Onnx.ModelProto model, Path file, int width) {
    Onnx.GraphProto g = model.getGraph();
    Map<String, Onnx.TensorProto> constants = new HashMap<>();
    Map<String, Onnx.NodeProto> producer = new HashMap<>();
    for (Onnx.TensorProto t : g.getInitializerList()) if (t.getDimsCount() <= 1) constants.put(t.getName(), t);
    boolean cumsum = false, erf = false;
    for (Onnx.NodeProto n : g.getNodeList()) {
      for (String o : n.getOutputList()) producer.put(o, n);
      if (n.getOpType().equals("Constant")) {
        for (Onnx.AttributeProto a : n.getAttributeList()) if (a.getName().equals("value")) constants.put(n.getOutput(0), a.getT());
      }
      cumsum |= n.getOpType().equals("CumSum");
      erf |= n.getOpType().equals("Erf");
    }
    Values v = new Values(constants, producer, file);
    TreeSet<Integer> heads = new TreeSet<>();
    TreeSet<Double> eps = new TreeSet<>();
    for (Onnx.NodeProto n : g.getNodeList()) {
      switch (n.getOpType()) {
        case "Reshape" -> {
          long[] s = v.shapeConstants(n.getInput(1));
          // [B, L, heads, head_dim]: the last two are constants whose product is the width
          if (s != null && s.length == 4 && s[2] > 0 && s[3] > 0 && s[2] * s[3] == width) heads.add((int) s[2]);
        }
        case "Sqrt" -> {
          Onnx.NodeProto add = producer.get(n.getInput(0));
          if (add == null || !add.getOpType().equals("Add")) break;
          for (int i = 0; i < 2; i++) {
            Onnx.NodeProto mean = producer.get(add.getInput(i));
            Double c = v.scalar(add.getInput(1 - i));
            if (mean != null && mean.getOpType().equals("ReduceMean") && c != null) eps.add(c);
          }
        }
        case "LayerNormalization" -> {
          double e = 1e-5; // the operator's default
          for (Onnx.AttributeProto a : n.getAttributeList()) if (a.getName().equals("epsilon")) e = a.getF();
          eps.add(e);
        }
        default -> {}
      }
    }
    return new OnnxGraphHints(heads.size() == 1 ? heads.first() : null, eps.size() == 1 ? eps.first() : null, cumsum, erf);
  }

  /** Constant values reachable from a tensor name through Concat / Unsqueeze / Cast; null where any part is computed. */
  private record Values(Map<String, Onnx.TensorProto> constants, Map<String, Onnx.NodeProto> producer, Path file) {
    long[] shapeConstants(String name) {
      Onnx.TensorProto t = constants.get(name);
      if (t != null) return longs(t);
      Onnx.NodeProto n = producer.get(name);
      if (n == null) return null;
      if (!n.getOpType().equals("Concat")) return null;
      List<String> parts = n.getInputList();
      long[] out = new long[parts.size()];
      for (int i = 0; i < parts.size(); i++) {
        Onnx.TensorProto p = constants.get(parts.get(i));
        // batch and length come from Shape/Gather at run time: unknown (-1) here, only the trailing constants matter
        long[] one = p == null ? null : longs(p);
        out[i] = one != null && one.length == 1 ? one[0] : -1;
      }
      return out;
    }

    Double scalar(String name) {
      Onnx.TensorProto t = constants.get(name);
      if (t == null) return null;
      float[] f = OnnxTensorData.floats(t, file);
      // the exporter stored the config's double as float32: its shortest decimal gives the config's value back (1e-12)
      return f.length == 1 ? Double.parseDouble(Float.toString(f[0])) : null;
    }

    long[] longs(Onnx.TensorProto t) {
      if (t.getDataType() != Onnx.TensorProto.DataType.INT64_VALUE && t.getDataType() != Onnx.TensorProto.DataType.INT32_VALUE) return null;
      float[] f = OnnxTensorData.floats(t, file);
      long[] out = new long[f.length];
      for (int i = 0; i < f.length; i++) out[i] = (long) f[i];
      return out;
    }
  }
}
