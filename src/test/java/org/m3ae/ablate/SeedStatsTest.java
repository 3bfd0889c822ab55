package org.m3ae.ablate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Mean ± sd and Welch's test against values worked out by hand, the Student-t CDF against closed forms and tables. */
class SeedStatsTest {
  @Test
  void meanAndSampleSdAsWorkedOutByHand() {
    // (0.50, 0.52, 0.54): mean 0.52, squared deviations 0.0004 + 0 + 0.0004 over n − 1 = 2 → sd 0.02
    SeedStats.Summary a = SeedStats.summary(List.of(0.50, 0.52, 0.54));
    assertEquals(0.52, a.mean(), 1e-15);
    assertEquals(0.02, a.sd(), 1e-15);
    assertEquals(3, a.n());
    // (0.40, 0.46): mean 0.43, 2 · 0.03² / 1 → sd 0.03·√2
    SeedStats.Summary b = SeedStats.summary(List.of(0.40, 0.46));
    assertEquals(0.43, b.mean(), 1e-15);
    assertEquals(0.03 * Math.sqrt(2), b.sd(), 1e-15);
    SeedStats.Summary one = SeedStats.summary(List.of(0.7));
    assertEquals(0.7, one.mean());
    assertEquals(0.0, one.sd());
  }

  @Test
  void welchAsWorkedOutByHand() {
    SeedStats.Summary a = new SeedStats.Summary(0.52, 0.02, 3), b = new SeedStats.Summary(0.43, 0.03 * Math.sqrt(2), 2);
    // s²/n: 0.0004/3 = 1.3333e-4 and 0.0018/2 = 9e-4; t = 0.09 / √(1.03333e-3) = 2.79977;
    // df = (1.03333e-3)² / ((1.3333e-4)²/2 + (9e-4)²/1) = 1.30393
    SeedStats.Welch w = SeedStats.welch(a, b);
    assertEquals(0.09, w.diff(), 1e-15);
    assertEquals(2.799769575772148, w.t(), 1e-12);
    assertEquals(1.3039348710990502, w.df(), 1e-12);
    assertEquals(7.462417101383574, w.critical(), 1e-7); // scipy.stats.t.ppf(0.975, 1.30393...)
    assertFalse(w.significant());
    assertTrue(SeedStats.welch(new SeedStats.Summary(0.91, 0.01, 3), new SeedStats.Summary(0.505, 0.005 * Math.sqrt(2), 2)).significant());
    assertFalse(SeedStats.welch(a, new SeedStats.Summary(0.4, 0, 1)).testable(), "one seed: no noise estimate");
    assertFalse(SeedStats.welch(new SeedStats.Summary(0.5, 0, 3), new SeedStats.Summary(0.4, 0, 3)).testable(), "no spread at all");
  }

  @Test
  void studentTCdfMatchesClosedFormsForOneAndTwoDegreesOfFreedom() {
    for (double t : new double[] {-7.5, -2, -0.3, 0, 0.4, 1, 3.2, 40}) {
      assertEquals(0.5 + Math.atan(t) / Math.PI, SeedStats.tCdf(t, 1), 1e-12, "df 1, t " + t); // Cauchy
      assertEquals(0.5 + t / (2 * Math.sqrt(2 + t * t)), SeedStats.tCdf(t, 2), 1e-12, "df 2, t " + t);
    }
  }

  @Test
  void quantilesMatchTheTables() {
    // two-sided 5 % points of printed t tables
    double[][] table = {{1, 12.706}, {2, 4.303}, {3, 3.182}, {4, 2.776}, {10, 2.228}, {30, 2.042}, {1000, 1.962}};
    for (double[] r : table) assertEquals(r[1], SeedStats.tQuantile(0.975, r[0]), 5e-4, "df " + r[0]);
    assertEquals(2.9400886379827282, SeedStats.tQuantile(0.975, 3.5), 1e-7); // scipy.stats.t.ppf(0.975, 3.5)
    assertEquals(0.9342752907165217, SeedStats.tCdf(1.7, 7.25), 1e-10); // scipy.stats.t.cdf(1.7, 7.25)
    assertEquals(-SeedStats.tQuantile(0.975, 4), SeedStats.tQuantile(0.025, 4), 1e-12);
  }
}
