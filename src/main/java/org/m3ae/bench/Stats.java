package org.m3ae.bench;

import java.util.Arrays;

/** Median, min and max of repeated timings in milliseconds (warm-up excluded by the caller). */
public record Stats(double medianMs, double minMs, double maxMs, int n) {
  public static Stats of(double[] ms) {
    if (ms.length == 0) throw new IllegalArgumentException("no samples");
    double[] s = ms.clone();
    Arrays.sort(s);
    int k = s.length;
    double med = k % 2 == 1 ? s[k / 2] : (s[k / 2 - 1] + s[k / 2]) / 2;
    return new Stats(med, s[0], s[k - 1], k);
  }
}
