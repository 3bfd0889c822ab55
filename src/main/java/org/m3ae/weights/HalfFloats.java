package org.m3ae.weights;

/**
 * IEEE binary16 and bfloat16 to float32. Java 17 has no {@code Float.float16ToFloat} (added in
 * Java 20), and checkpoints saved under AMP may hold either format (SPEC §4, converter notes).
 */
final class HalfFloats {
  private HalfFloats() {}

  /** bfloat16 is the upper half of a float32, so widening is a shift. */
  static float bf16ToFloat(short bits) {
    return Float.intBitsToFloat((bits & 0xFFFF) << 16);
  }

  static float f16ToFloat(short bits) {
    int h = bits & 0xFFFF;
    int sign = (h & 0x8000) << 16;
    int exp = (h >>> 10) & 0x1F;
    int mant = h & 0x3FF;
    if (exp == 0x1F) { // inf or NaN: keep the payload
      return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
    }
    if (exp == 0) {
      if (mant == 0) return Float.intBitsToFloat(sign);
      // subnormal half: value = mant * 2^-24, exactly representable as a normal float
      float v = mant * 0x1p-24f;
      return sign == 0 ? v : -v;
    }
    return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
  }
}
