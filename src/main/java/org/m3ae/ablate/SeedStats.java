package org.m3ae.ablate;

import java.util.List;

/**
 * The statistics of a grid's table: mean and sample standard deviation over seeds, and Welch's t-test of two variants'
 * means (unequal variances), with the Student-t quantile it is judged against.
 */
public final class SeedStats {
  private SeedStats() {}

  /** Mean, sample standard deviation (n − 1; 0 for one value) and count. */
  public record Summary(double mean, double sd, int n) {}

  public static Summary summary(List<Double> xs) {
    int n = xs.size();
    if (n == 0) return new Summary(Double.NaN, Double.NaN, 0);
    double mean = xs.stream().mapToDouble(Double::doubleValue).sum() / n;
    double ss = 0;
    for (double x : xs) ss += (x - mean) * (x - mean);
    return new Summary(mean, n > 1 ? Math.sqrt(ss / (n - 1)) : 0, n);
  }

  /**
   * Welch's two-sample t-test of {@code a − b}: difference of means, t, Welch–Satterthwaite degrees of freedom, the
   * two-sided 5 % critical value, and whether |t| exceeds it. {@code t} and {@code df} are NaN when either side has
   * fewer than two seeds or both have no spread at all (no estimate of seed noise).
   */
  public record Welch(double diff, double t, double df, double critical, boolean significant) {
    public boolean testable() {
      return !Double.isNaN(t);
    }
  }

  public static Welch welch(Summary a, Summary b) {
    double diff = a.mean() - b.mean();
    if (a.n() < 2 || b.n() < 2) return new Welch(diff, Double.NaN, Double.NaN, Double.NaN, false);
    double va = a.sd() * a.sd() / a.n(), vb = b.sd() * b.sd() / b.n();
    double se2 = va + vb;
    if (!(se2 > 0)) return new Welch(diff, Double.NaN, Double.NaN, Double.NaN, false);
    double t = diff / Math.sqrt(se2);
    double df = se2 * se2 / (va * va / (a.n() - 1) + vb * vb / (b.n() - 1));
    double crit = tQuantile(0.975, df);
    return new Welch(diff, t, df, crit, Math.abs(t) > crit);
  }

  /** P(T ≤ t) for Student's t with {@code df} (> 0, not necessarily whole) degrees of freedom. */
  public static double tCdf(double t, double df) {
    double x = df / (df + t * t);
    double tail = 0.5 * regularizedBeta(x, df / 2, 0.5);
    return t >= 0 ? 1 - tail : tail;
  }

  /** The p-quantile of Student's t (0 < p < 1), by bisection on {@link #tCdf}. */
  public static double tQuantile(double p, double df) {
    if (!(p > 0 && p < 1) || !(df > 0)) throw new IllegalArgumentException("p " + p + ", df " + df);
    if (p < 0.5) return -tQuantile(1 - p, df);
    double lo = 0, hi = 1;
    while (tCdf(hi, df) < p) hi *= 2;
    for (int i = 0; i < 200 && hi - lo > 1e-12 * Math.max(1, hi); i++) {
      double mid = 0.5 * (lo + hi);
      if (tCdf(mid, df) < p) lo = mid;
      else hi = mid;
    }
    return 0.5 * (lo + hi);
  }

  /** I_x(a, b), the regularized incomplete beta function (continued fraction, modified Lentz). */
  static double regularizedBeta(double x, double a, double b) {
    if (x <= 0) return 0;
    if (x >= 1) return 1;
    double lnFront = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x);
    if (x < (a + 1) / (a + b + 2)) return Math.exp(lnFront) * betaFraction(x, a, b) / a;
    return 1 - Math.exp(lnFront) * betaFraction(1 - x, b, a) / b;
  }

  private static double betaFraction(double x, double a, double b) {
    final double tiny = 1e-300;
    double c = 1, d = 1 - (a + b) * x / (a + 1);
    if (Math.abs(d) < tiny) d = tiny;
    d = 1 / d;
    double h = d;
    for (int m = 1; m <= 10_000; m++) {
      int m2 = 2 * m;
      double aa = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
      d = 1 + aa * d;
      if (Math.abs(d) < tiny) d = tiny;
      c = 1 + aa / c;
      if (Math.abs(c) < tiny) c = tiny;
      d = 1 / d;
      h *= d * c;
      aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
      d = 1 + aa * d;
      if (Math.abs(d) < tiny) d = tiny;
      c = 1 + aa / c;
      if (Math.abs(c) < tiny) c = tiny;
      d = 1 / d;
      double del = d * c;
      h *= del;
      if (Math.abs(del - 1) < 1e-15) break;
    }
    return h;
  }

  /** ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; ~1e-15 relative). */
  static double logGamma(double x) {
    if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
    double[] g = {0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
        12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7};
    x -= 1;
    double a = g[0];
    double t = x + 7.5;
    for (int i = 1; i < 9; i++) a += g[i] / (x + i);
    return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
  }
}
