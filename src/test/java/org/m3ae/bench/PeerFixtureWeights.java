package org.m3ae.bench;

import java.nio.charset.StandardCharsets;

/**
 * The portable weights of the peer fixture, the twin of {@code fixture_weights} in {@code scripts/peer/m3ae_peer.py}:
 * element i (row-major, graph layout) of variable {@code name} is u in [0, 1) from splitmix64 at counter i + 1 of the
 * stream seeded by FNV-1a64(name) XOR seed; LayerNorm gains 1 + 0.2 (u − 0.5), biases and shifts 0.1 (u − 0.5), every
 * other tensor 0.08 (u − 0.5). The tiny teacher's 3 M values would be 12 MB in the repository; the generator is twenty
 * lines on each side, and unlike the graph's own initialisation (biases 0, gains 1) it makes every bias and gain count.
 */
final class PeerFixtureWeights {
  private PeerFixtureWeights() {}

  static float[] values(String name, long[] shape, long seed) {
    long h = 0xCBF29CE484222325L;
    for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
      h ^= b & 0xFF;
      h *= 0x100000001B3L;
    }
    long base = h ^ seed;
    long n = 1;
    for (long d : shape) n *= d;
    boolean gain = name.endsWith(".weight")
        && (name.contains("LayerNorm.") || name.contains(".ln_") || name.contains("decoder_norm."));
    boolean bias = name.endsWith(".bias");
    float[] out = new float[Math.toIntExact(n)];
    for (int i = 0; i < out.length; i++) {
      long z = base + (i + 1L) * 0x9E3779B97F4A7C15L;
      z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
      z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
      z ^= z >>> 31;
      double u = (z >>> 11) * 0x1.0p-53;
      out[i] = (float) (gain ? 1.0 + 0.2 * (u - 0.5) : bias ? 0.1 * (u - 0.5) : 0.08 * (u - 0.5));
    }
    return out;
  }
}
