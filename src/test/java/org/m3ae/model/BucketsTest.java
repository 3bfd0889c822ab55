package org.m3ae.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Bucket sizes: hand-listed values, and for every n up to 5,000 the bound the padding promises. */
class BucketsTest {

  @Test
  void fourStepsPerOctave() {
    int[][] cases = {{0, 16}, {1, 16}, {16, 16}, {17, 20}, {20, 20}, {21, 24}, {29, 32}, {32, 32}, {33, 40}, {57, 64},
        {64, 64}, {65, 80}, {100, 112}, {128, 128}, {129, 160}, {513, 640}};
    for (int[] c : cases) assertEquals(c[1], Buckets.up(c[0]), "up(" + c[0] + ")");
    assertThrows(IllegalArgumentException.class, () -> Buckets.up(-1));
  }

  @Test
  void atMostAQuarterMoreAndMonotone() {
    int prev = 0;
    for (int n = 1; n <= 5000; n++) {
      int b = Buckets.up(n);
      assertTrue(b >= n, "up(" + n + ") = " + b);
      assertTrue(n <= Buckets.MIN || b <= n * 1.25 + 1e-9, "up(" + n + ") = " + b + " pads more than a quarter");
      assertTrue(b >= prev, "monotone at " + n);
      assertEquals(b, Buckets.up(b), "a bucket is its own bucket: " + b);
      prev = b;
    }
  }
}
