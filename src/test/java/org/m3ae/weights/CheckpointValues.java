package org.m3ae.weights;

import java.nio.file.Path;
import java.util.Map;

/**
 * Deterministic pseudo-random tensor values keyed by name, so a test can write a checkpoint of any
 * size without holding it and regenerate any tensor later to check what was loaded.
 */
final class CheckpointValues {
  private CheckpointValues() {}

  static float[] of(String key, long[] shape) {
    long n = 1;
    for (long d : shape) n *= d;
    float[] v = new float[(int) n];
    long s = key.hashCode() * 0x9E3779B97F4A7C15L + 0x632BE59BD9B4E019L;
    for (int i = 0; i < v.length; i++) {
      s ^= s << 13;
      s ^= s >>> 7;
      s ^= s << 17;
      v[i] = ((s >>> 40) * 0x1p-24f) - 0.5f;
    }
    return v;
  }

  static void write(Map<String, long[]> keys, Path file) {
    SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
    keys.forEach((k, shape) -> w.add(k, shape, () -> of(k, shape)));
    w.write(file);
  }
}
