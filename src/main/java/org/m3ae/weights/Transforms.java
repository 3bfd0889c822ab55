package org.m3ae.weights;

import java.util.Arrays;

/** The checkpoint → graph transforms listed in SPEC §4 ("Converter notes for DL4J"). */
public final class Transforms {
  private Transforms() {}

  static WeightsException mismatch(TensorSource src, String key, long[] have, long[] target,
      String what) {
    return new WeightsException(src.origin() + ": key '" + key + "': shape mismatch: checkpoint "
        + Arrays.toString(have) + (what.isEmpty() ? "" : " (" + what + ")") + " vs graph "
        + Arrays.toString(target));
  }

  /** Same values, same shape (LayerNorm vectors, embedding tables, biases). */
  public static final Transform IDENTITY = (TensorSource src, String key, long[] target) -> {
    long[] s = src.shape(key);
    if (!Arrays.equals(s, target)) throw mismatch(src, key, s, target, "");
    return src.readFloats(key);
  };

  /** nn.Linear keeps {@code [out, in]}; the graph multiplies {@code x · W} with W {@code [in, out]}. */
  public static final Transform LINEAR_WEIGHT = (TensorSource src, String key, long[] target) -> {
    long[] s = src.shape(key);
    if (s.length != 2 || target.length != 2 || s[0] != target[1] || s[1] != target[0]) {
      throw mismatch(src, key, s, target, "Linear [out, in], transposed");
    }
    return transpose(src.readFloats(key), (int) s[0], (int) s[1]);
  };

  static float[] transpose(float[] v, int rows, int cols) {
    float[] t = new float[v.length];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) t[c * rows + r] = v[r * cols + c];
    }
    return t;
  }

  /**
   * nn.MultiheadAttention packs q|k|v as the row blocks of {@code in_proj_weight [3D, D]} and
   * {@code in_proj_bias [3D]} (SPEC §1.1); {@code part} 0, 1, 2 selects q, k, v.
   */
  public static Transform inProjWeight(int part) {
    return (TensorSource src, String key, long[] target) -> {
      long[] s = src.shape(key);
      if (s.length != 2 || s[0] % 3 != 0 || target.length != 2 || s[0] / 3 != target[1]
          || s[1] != target[0]) {
        throw mismatch(src, key, s, target, "packed q|k|v rows, third " + part + " transposed");
      }
      int d = (int) (s[0] / 3);
      int in = (int) s[1];
      float[] all = src.readFloats(key);
      float[] rows = Arrays.copyOfRange(all, part * d * in, (part + 1) * d * in);
      return transpose(rows, d, in);
    };
  }

  public static Transform inProjBias(int part) {
    return (TensorSource src, String key, long[] target) -> {
      long[] s = src.shape(key);
      if (s.length != 1 || s[0] % 3 != 0 || target.length != 1 || s[0] / 3 != target[0]) {
        throw mismatch(src, key, s, target, "packed q|k|v, third " + part);
      }
      int d = (int) target[0];
      return Arrays.copyOfRange(src.readFloats(key), part * d, (part + 1) * d);
    };
  }

  /**
   * Conv2d(C→Dv, kernel P, stride P) as a Linear on patches flattened in (c, kh, kw) order (SPEC
   * §4): {@code conv1.weight [Dv, C, P, P]} → reshape {@code [Dv, C·P·P]} → transpose.
   */
  public static final Transform CONV_PATCH = (TensorSource src, String key, long[] target) -> {
    long[] s = src.shape(key);
    if (s.length != 4 || target.length != 2 || s[0] != target[1] || s[1] * s[2] * s[3] != target[0]) {
      throw mismatch(src, key, s, target, "conv [Dv, C, P, P] as [C·P·P, Dv]");
    }
    return transpose(src.readFloats(key), (int) s[0], (int) (s[1] * s[2] * s[3]));
  };

  /**
   * CLIP positional embedding: loaded as is at the checkpoint's resolution, otherwise the patch
   * grid is bicubically resized and the CLS row kept (SPEC §1.1 "Resolution change").
   */
  public static final Transform POSITION_EMBEDDING = (TensorSource src, String key, long[] target) -> {
    long[] s = src.shape(key);
    long[] s2 = s.length == 3 && s[0] == 1 ? new long[] {s[1], s[2]} : s;
    if (s2.length != 2 || target.length != 2 || s2[1] != target[1]) {
      throw mismatch(src, key, s, target, "positional embedding [1 + grid², D]");
    }
    float[] v = src.readFloats(key);
    if (s2[0] == target[0]) return v;
    try {
      return Bicubic.resizePositionEmbedding(v, (int) s2[0], (int) s2[1], (int) target[0]);
    } catch (IllegalArgumentException e) {
      throw mismatch(src, key, s, target, e.getMessage());
    }
  };
}
