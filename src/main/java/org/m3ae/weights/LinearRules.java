package org.m3ae.weights;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The per-parameter transform shared by every PyTorch-trained tower in the graph, decided by the
 * graph variable's name: Linear weights transposed, packed attention projections split, the patch
 * convolution flattened, embedding tables and norms copied (SPEC §4, converter notes).
 */
final class LinearRules {
  private LinearRules() {}

  /** Graph names of the split q/k/v projections of CLIP-style blocks (vision ViT, MIM decoder). */
  private static final Pattern QKV =
      Pattern.compile("(.*\\.attn)\\.([qkv])_proj\\.(weight|bias)");

  /** Embedding tables are stored {@code [rows, D]} on both sides: never transposed. */
  private static boolean embeddingTable(String name) {
    return name.endsWith("_embeddings.weight");
  }

  /**
   * The rule for graph variable {@code target} read from source key {@code sourceTarget}'s
   * equivalent, where {@code toSource} rewrites a graph name into the checkpoint's name.
   */
  static KeyMap.Rule rule(String target, long[] shape, java.util.function.UnaryOperator<String> toSource) {
    Matcher m = QKV.matcher(target);
    if (m.matches()) {
      int part = "qkv".indexOf(m.group(2).charAt(0));
      boolean weight = m.group(3).equals("weight");
      String key = toSource.apply(m.group(1) + ".in_proj_" + m.group(3));
      return KeyMap.Rule.load(key, weight ? Transforms.inProjWeight(part) : Transforms.inProjBias(part),
          "in_proj " + m.group(2) + " third" + (weight ? ", transposed" : ""));
    }
    String key = toSource.apply(target);
    if (target.endsWith("visual.conv1.weight")) {
      return KeyMap.Rule.load(key, Transforms.CONV_PATCH, "conv1 as patch Linear");
    }
    if (target.endsWith("visual.positional_embedding")) {
      return KeyMap.Rule.load(key, Transforms.POSITION_EMBEDDING, "bicubic if the grid differs");
    }
    if (shape.length == 2 && target.endsWith(".weight") && !embeddingTable(target)) {
      return KeyMap.Rule.load(key, Transforms.LINEAR_WEIGHT, "Linear, transposed");
    }
    return KeyMap.Rule.load(key, Transforms.IDENTITY, "copied");
  }
}
