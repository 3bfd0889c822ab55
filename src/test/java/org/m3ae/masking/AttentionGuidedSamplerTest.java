package org.m3ae.masking;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Paper §3.3 stage 2: the r schedule, the always-masked high-attention group, the 75 % budget. */
class AttentionGuidedSamplerTest {
  @Test
  void rFallsLinearlyFromStartToEnd() {
    assertEquals(0.95, AttentionGuidedSampler.schedule(0.95, 0.30, 0, 1000), 1e-12);
    assertEquals(0.625, AttentionGuidedSampler.schedule(0.95, 0.30, 500, 1000), 1e-12);
    assertEquals(0.30, AttentionGuidedSampler.schedule(0.95, 0.30, 1000, 1000), 1e-12);
  }

  @Test
  void topShareIsAlwaysMaskedAndTheBudgetIsExact() {
    int n = 324; // 288 px
    SplittableRandom data = new SplittableRandom(3);
    for (double r : new double[] {0.95, 0.7, 0.5, 0.3}) {
      AttentionGuidedSampler s = new AttentionGuidedSampler(0.75, r);
      int high = (int) Math.floor((1 - r) * n + 1e-9);
      assertEquals(high, s.highCount(n));
      for (int trial = 0; trial < 20; trial++) {
        float[] scores = new float[n];
        for (int i = 0; i < n; i++) scores[i] = (float) data.nextDouble();
        PatchMask m = s.sample(n, scores, new SplittableRandom(trial));
        assertEquals(81, m.keep().length, "len_keep = int(324·0.25)");
        assertEquals(243, m.masked().length);
        Set<Integer> masked = new HashSet<>();
        for (int i : m.masked()) masked.add(i);
        // Every patch ranked in the top `high` by score is masked.
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        java.util.Arrays.sort(order, (a, b) -> Float.compare(scores[b], scores[a]));
        for (int i = 0; i < high; i++) assertTrue(masked.contains(order[i]), "r=" + r + " rank " + i);
        for (int i = 1; i < m.keep().length; i++) assertTrue(m.keep()[i] > m.keep()[i - 1], "keep ascending");
      }
    }
  }

  @Test
  void lowGroupIsSampledPerSampleAndDeterministically() {
    int n = 64;
    float[] scores = new float[n];
    for (int i = 0; i < n; i++) scores[i] = i; // patch 63 most important
    AttentionGuidedSampler s = new AttentionGuidedSampler(0.75, 0.9);
    PatchMask a = s.sample(n, scores, new SplittableRandom(1));
    PatchMask b = s.sample(n, scores, new SplittableRandom(1));
    PatchMask c = s.sample(n, scores, new SplittableRandom(2));
    assertArrayEquals(a.keep(), b.keep());
    assertTrue(!java.util.Arrays.equals(a.keep(), c.keep()), "different rng, different random part");
    // high group = floor(0.1·64) = 6: patches 58..63 masked in both.
    for (PatchMask m : new PatchMask[] {a, c}) {
      Set<Integer> masked = new HashSet<>();
      for (int i : m.masked()) masked.add(i);
      for (int p = 58; p < 64; p++) assertTrue(masked.contains(p));
    }
    // Over many draws the random part is spread over the low group: each low patch is masked ~ (48-6)/58 of the time.
    int[] hits = new int[n];
    for (int t = 0; t < 2000; t++) for (int i : s.sample(n, scores, new SplittableRandom(100 + t)).masked()) hits[i]++;
    double expected = 2000.0 * (48 - 6) / 58;
    for (int p = 0; p < 58; p++) assertEquals(expected, hits[p], 5 * Math.sqrt(expected), "patch " + p);
  }
}
