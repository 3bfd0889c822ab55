package org.m3ae.weights;

/**
 * Reads a file that already holds graph variables under their graph names and layout: the
 * {@code .safetensors} that {@code import --out X.safetensors} writes for models too large for a
 * SameDiff save (see {@link GraphWeights}).
 */
public final class GraphKeyMap implements KeyMap {
  @Override
  public Rule rule(String target, long[] shape) {
    if (target.equals(M3aeKeyMap.FIXED_DECODER_POS)) return null;
    return Rule.load(target, Transforms.IDENTITY, "graph layout");
  }
}
