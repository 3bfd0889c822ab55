package org.m3ae.model;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Dropout masks drawn in Java: each site from its own split of the step's generator, written in bulk, and only for the
 * sites a step reads.
 */
class DropoutSitesTest {

  private static DropoutSites sites() {
    DropoutSites d = new DropoutSites();
    d.add(new DropoutSites.Site("a", new long[] {-1, 3, 5}, 0.1));
    d.add(new DropoutSites.Site("b", new long[] {-1, 2, 7, 7}, 0.25));
    d.add(new DropoutSites.Site("c", new long[] {-1, 11}, 0.5));
    return d;
  }

  /** The documented draw, written out: four 16-bit lanes of one 64-bit draw per four elements, kept below round(keep·2^16). */
  private static float[] expected(SplittableRandom r, int n, double rate) {
    float[] v = new float[n];
    long threshold = Math.round((1.0 - rate) * 65536.0);
    float scale = (float) (1.0 / (1.0 - rate));
    for (int i = 0; i < n; i += 4) {
      long x = r.nextLong();
      for (int k = 0; k < 4 && i + k < n; k++) v[i + k] = ((x >>> (16 * k)) & 0xFFFF) < threshold ? scale : 0f;
    }
    return v;
  }

  @Test
  void masksAreTheDocumentedDrawsOfEachSitesOwnSplit() {
    Map<String, INDArray> m = sites().sample(4, DataType.FLOAT, new SplittableRandom(9));
    SplittableRandom ref = new SplittableRandom(9);
    SplittableRandom ra = ref.split(), rb = ref.split(), rc = ref.split();
    assertArrayEquals(expected(ra, 60, 0.1), m.get("a").data().asFloat());
    assertArrayEquals(expected(rb, 392, 0.25), m.get("b").data().asFloat());
    assertArrayEquals(expected(rc, 44, 0.5), m.get("c").data().asFloat());
    assertArrayEquals(new long[] {4, 2, 7, 7}, m.get("b").shape());
    // a double-precision graph gets the same masks
    Map<String, INDArray> d = sites().sample(4, DataType.DOUBLE, new SplittableRandom(9));
    assertEquals(DataType.DOUBLE, d.get("b").dataType());
    assertArrayEquals(m.get("b").data().asDouble(), d.get("b").data().asDouble());
  }

  @Test
  void unreadSitesGetOnesAndTheReadOnesDoNotChange() {
    Map<String, INDArray> all = sites().sample(3, DataType.FLOAT, new SplittableRandom(5));
    Map<String, INDArray> some = sites().sample(3, DataType.FLOAT, new SplittableRandom(5), Set.of("b"));
    assertEquals(all.get("b"), some.get("b"), "a site's mask does not depend on which others are drawn");
    assertEquals(15 * 3, some.get("a").sumNumber().doubleValue(), 0.0);
    assertEquals(33, some.get("c").sumNumber().doubleValue(), 0.0);
    assertNotEquals(all.get("a").sumNumber().doubleValue(), 45.0, "a drawn mask is not all ones");
  }

  @Test
  void theDropRateAndTheExpectationHold() {
    DropoutSites d = new DropoutSites();
    d.add(new DropoutSites.Site("x", new long[] {-1, 1000}, 0.1));
    INDArray m = d.sample(200, DataType.FLOAT, new SplittableRandom(1)).get("x");
    double zeros = m.eq(0).castTo(DataType.FLOAT).sumNumber().doubleValue() / m.length();
    assertEquals(0.1, zeros, 0.003);
    assertEquals(1.0, m.meanNumber().doubleValue(), 0.005);
  }
}
