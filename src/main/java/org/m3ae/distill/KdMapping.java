package org.m3ae.distill;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.m3ae.model.ModelConfig;
import org.m3ae.model.Stack;
import org.m3ae.weights.LayerMapping;

/**
 * Which teacher layer supervises each student layer (paper §3.2). Attention: student layer j ← the <em>last</em>
 * teacher layer of its interval, ⌈(j+1)·T/S⌉ − 1 (paper §3.2.2; EfficientVLM's {@code get_cor_teacher}). Hidden
 * states, which include the embedding output at index 0: index 0 ← 0 and index i ← ⌈i·T/S⌉, i.e. the output of that
 * same teacher layer, so the hidden-state partners are spread uniformly over the whole teacher and end at its last
 * layer (paper §3.2.1). With integer ratios both reduce to the papers' i·k and (j+1)·k − 1.
 *
 * <p>The paper's ratios (Small 3:1 uni-modal and 6:1 fusion, Base 2:1 and 3:1) assume a 12-block ViT; M3AE's CLIP
 * builds 11 blocks (SPEC §1.1), so the vision stack uses 11/4 and 11/6 — printed at the start of every run.
 */
public record KdMapping(Map<Stack, int[]> attention, Map<Stack, int[]> hidden) {
  /**
   * @param overrides explicit attention partners per stack (teacher layer indices, one per student layer); the
   *     hidden partners follow them (index i+1 ← override[i]+1)
   */
  public static KdMapping of(ModelConfig teacher, ModelConfig student, Map<Stack, int[]> overrides) {
    Map<Stack, int[]> att = new LinkedHashMap<>();
    Map<Stack, int[]> hid = new LinkedHashMap<>();
    for (Stack s : Stack.ENCODERS) {
      int t = s.layers(teacher), n = s.layers(student);
      int[] a = overrides.containsKey(s) ? overrides.get(s) : LayerMapping.LAST_OF_BLOCK.map(t, n);
      if (a.length != n) throw new IllegalArgumentException(s.label() + ": " + a.length + " partners for " + n + " student layers");
      for (int x : a) {
        if (x < 0 || x >= t) throw new IllegalArgumentException(s.label() + ": teacher layer " + x + " not in 0.." + (t - 1));
      }
      int[] h = new int[n + 1];
      for (int i = 0; i < n; i++) h[i + 1] = a[i] + 1;
      att.put(s, a);
      hid.put(s, h);
    }
    return new KdMapping(att, hid);
  }

  /** One line per stack, e.g. {@code vision 11→4: attention 2,5,8,10; hidden 0,3,6,9,11}. */
  public String describe(ModelConfig teacher, ModelConfig student) {
    StringBuilder sb = new StringBuilder();
    for (Stack s : Stack.ENCODERS) {
      sb.append(String.format("  %-12s %2d → %d layers: attention ← teacher %s; hidden states ← teacher %s%n",
          s.label(), s.layers(teacher), s.layers(student), join(attention.get(s)), join(hidden.get(s))));
    }
    return sb.toString();
  }

  private static String join(int[] a) {
    return String.join(",", Arrays.stream(a).mapToObj(Integer::toString).toArray(String[]::new));
  }
}
