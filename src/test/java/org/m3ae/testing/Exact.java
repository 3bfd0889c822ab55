package org.m3ae.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Bit-for-bit array comparison. {@code assertEquals(INDArray, INDArray)} goes through {@code INDArray.equals}, which
 * allows a difference of {@code Nd4j.EPS_THRESHOLD} (1e-5) per element: a test that claims "the same array" with it
 * would pass a real drift.
 */
public final class Exact {
  private Exact() {}

  /**
   * Same data type, same shape, and every element the same value: compared as the doubles the elements widen to
   * exactly ({@link Double#doubleToLongBits}), so -0.0 differs from 0.0 and NaN equals only NaN.
   */
  public static void assertBitEqual(INDArray expected, INDArray actual, String what) {
    if (actual == null) fail(what + ": no array");
    if (expected.dataType() != actual.dataType()) fail(what + ": data type " + actual.dataType() + ", expected " + expected.dataType());
    if (!Arrays.equals(expected.shape(), actual.shape())) {
      fail(what + ": shape " + Arrays.toString(actual.shape()) + ", expected " + Arrays.toString(expected.shape()));
    }
    double[] e = flat(expected), a = flat(actual);
    for (int i = 0; i < e.length; i++) {
      if (Double.doubleToLongBits(e[i]) != Double.doubleToLongBits(a[i])) {
        fail(what + ": element " + i + " (flat, c order) is " + a[i] + ", expected " + e[i] + " (difference " + (a[i] - e[i]) + ")");
      }
    }
  }

  private static double[] flat(INDArray x) {
    if (x.length() == 0) return new double[0];
    // BOOL and integer types widen to double exactly too (int64 beyond 2^53 does not occur in these tests' arrays)
    INDArray d = x.dataType() == DataType.DOUBLE ? x : x.castTo(DataType.DOUBLE);
    return d.dup('c').reshape(x.length()).toDoubleVector();
  }
}
