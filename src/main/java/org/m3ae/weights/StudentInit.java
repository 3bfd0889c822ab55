package org.m3ae.weights;

import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.m3ae.model.M3aeGraph;
import org.m3ae.model.ModelConfig;
import org.m3ae.model.Stack;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Initialises a student graph from a teacher graph (SPEC §6.2: EfficientVLM copies chosen teacher
 * layers): embeddings, projections, poolers and heads copied by name; each layered stack's layers
 * through a {@link LayerMapping}. A variable whose shape differs from the teacher's (a narrower
 * student) keeps its random initialisation and is reported missing with both shapes.
 */
public final class StudentInit {
  private StudentInit() {}

  public record Result(LoadReport report, Map<Stack, int[]> mapping) {}

  /** Layers per stack in a saved graph, read from its variable names (no teacher config needed). */
  public static Map<Stack, Integer> layers(TensorSource g) {
    Map<Stack, Integer> n = new LinkedHashMap<>();
    for (Stack s : Stack.values()) n.put(s, 0);
    for (String name : g.keys()) {
      for (Stack s : Stack.values()) {
        if (!name.startsWith(s.prefix())) continue;
        String rest = name.substring(s.prefix().length());
        int dot = rest.indexOf('.');
        if (dot > 0 && rest.substring(0, dot).chars().allMatch(Character::isDigit)) {
          n.put(s, Math.max(n.get(s), Integer.parseInt(rest.substring(0, dot)) + 1));
        }
      }
    }
    return n;
  }

  /** The mapping of every stack; {@code overrides} holds explicit teacher indices per stack. */
  public static Map<Stack, int[]> mapping(Map<Stack, Integer> teacher, ModelConfig student, LayerMapping how,
      Map<Stack, int[]> overrides) {
    Map<Stack, int[]> m = new LinkedHashMap<>();
    for (Stack s : Stack.values()) {
      int t = teacher.get(s);
      int st = s.layers(student);
      m.put(s, overrides.containsKey(s) ? overrides.get(s) : how.map(t, st));
    }
    return m;
  }

  /** {@code teacher} must be in graph layout: a {@link SameDiffSource} or graph-layout safetensors. */
  public static Result run(TensorSource teacher, M3aeGraph student, Map<Stack, int[]> mapping) {
    LoadReport r = new LoadReport(teacher.origin());
    Set<String> used = new HashSet<>();
    for (SDVariable v : student.sd().variables()) {
      if (v.getVariableType() != VariableType.VARIABLE) continue;
      String name = v.name();
      String tName = teacherName(name, mapping);
      if (!teacher.contains(tName)) {
        r.missing.put(name, "teacher has no '" + tName + "'");
        continue;
      }
      long[] ts = teacher.shape(tName);
      INDArray dst = v.getArr();
      float[] value;
      if (Arrays.equals(ts, dst.shape())) {
        value = teacher.readFloats(tName);
      } else if (name.endsWith("visual.positional_embedding") && ts.length == 2 && dst.rank() == 2
          && ts[1] == dst.size(1)) {
        // a student built for another resolution: the same resizing as a checkpoint (SPEC §1.1)
        value = Bicubic.resizePositionEmbedding(teacher.readFloats(tName), (int) ts[0], (int) ts[1], (int) dst.size(0));
      } else {
        r.missing.put(name, "shape differs: teacher '" + tName + "' " + Arrays.toString(ts)
            + " vs student " + Arrays.toString(dst.shape()));
        continue;
      }
      WeightLoader.write(dst, value);
      used.add(tName);
      r.loaded.add(new LoadReport.Loaded(name, tName, tName.equals(name) ? "copied" : "mapped layer"));
      r.loadedValues += dst.length();
    }
    for (String k : teacher.keys()) {
      if (!used.contains(k)) r.unused.put(k, "");
    }
    return new Result(r, mapping);
  }

  static String teacherName(String studentName, Map<Stack, int[]> mapping) {
    for (Map.Entry<Stack, int[]> e : mapping.entrySet()) {
      String p = e.getKey().prefix();
      if (!studentName.startsWith(p)) continue;
      String rest = studentName.substring(p.length());
      int dot = rest.indexOf('.');
      if (dot <= 0) continue;
      int i = Integer.parseInt(rest.substring(0, dot));
      int[] map = e.getValue();
      if (i >= map.length) return studentName;
      return p + map[i] + rest.substring(dot);
    }
    return studentName;
  }

  /** Printable form: {@code vision 11→6: 0←1 1←3 ...}. */
  public static String describe(Map<Stack, int[]> mapping, Map<Stack, Integer> teacher) {
    StringBuilder b = new StringBuilder();
    for (Map.Entry<Stack, int[]> e : mapping.entrySet()) {
      b.append(String.format("%-13s %2d -> %2d layers: ", e.getKey().name().toLowerCase(),
          teacher.get(e.getKey()), e.getValue().length));
      for (int i = 0; i < e.getValue().length; i++) {
        b.append(i == 0 ? "" : ", ").append("student ").append(i).append(" <- teacher ").append(e.getValue()[i]);
      }
      b.append('\n');
    }
    return b.toString();
  }
}
