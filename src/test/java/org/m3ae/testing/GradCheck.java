package org.m3ae.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Central finite-difference check of SameDiff's analytic gradients, in double precision: for sampled elements of
 * every trainable variable, (L(w+ε) − L(w−ε)) / 2ε must match the backprop gradient.
 */
public final class GradCheck {
  private GradCheck() {}

  public record Result(int checked, int nonZero, double worstRel, String worstAt) {}

  public static Result check(SameDiff sd, Map<String, INDArray> feed, String loss, int samplesPerVar, long seed) {
    return check(sd, feed, loss, samplesPerVar, seed, 1e-6, 1e-5, 1e-9);
  }

  /** Checks every trainable variable; each must receive a gradient. */
  public static Result check(
      SameDiff sd, Map<String, INDArray> feed, String loss, int samplesPerVar, long seed,
      double eps, double maxRel, double minAbs) {
    List<String> vars = new ArrayList<>();
    for (SDVariable v : sd.variables()) {
      if (v.getVariableType() == VariableType.VARIABLE) vars.add(v.name());
    }
    return check(sd, feed, loss, vars, samplesPerVar, seed, eps, maxRel, minAbs);
  }

  /**
   * Checks the named variables. Differences below {@code minAbs·max(1, |L|)} are treated as round-off: central
   * differences carry an error of about ε_machine·|L|/ε.
   */
  public static Result check(
      SameDiff sd, Map<String, INDArray> feed, String loss, List<String> vars, int samplesPerVar, long seed,
      double eps, double maxRel, double minAbsPerUnitLoss) {
    sd.setLossVariables(loss);
    for (String v : vars) {
      DataType t = sd.getVariable(v).dataType();
      if (t != DataType.DOUBLE) fail("gradient checks need DOUBLE variables, " + v + " is " + t);
    }
    double minAbs = minAbsPerUnitLoss * Math.max(1.0, Math.abs(value(sd, feed, loss)));
    Map<String, INDArray> grads = sd.calculateGradients(feed, vars);
    SplittableRandom rng = new SplittableRandom(seed);
    int checked = 0, nonZero = 0;
    double worst = 0;
    String worstAt = "";
    for (String name : vars) {
      INDArray w = sd.getVariable(name).getArr();
      INDArray g = grads.get(name);
      if (g == null) fail("no gradient for " + name);
      long n = w.length();
      INDArray flat = w.reshape(n);
      INDArray gflat = g.reshape(n);
      boolean all = samplesPerVar >= n;
      for (int s = 0; s < Math.min(samplesPerVar, n); s++) {
        long i = all ? s : rng.nextLong(n);
        double orig = flat.getDouble(i);
        flat.putScalar(i, orig + eps);
        double plus = value(sd, feed, loss);
        flat.putScalar(i, orig - eps);
        double minus = value(sd, feed, loss);
        flat.putScalar(i, orig);
        double numeric = (plus - minus) / (2 * eps);
        double analytic = gflat.getDouble(i);
        double abs = Math.abs(numeric - analytic);
        double rel = abs / Math.max(Math.abs(numeric) + Math.abs(analytic), 1e-300);
        if (Math.abs(analytic) > minAbs) nonZero++;
        checked++;
        if (Math.max(Math.abs(numeric), Math.abs(analytic)) > 100 * minAbs && rel > worst) {
          worst = rel;
          worstAt = name + "[" + i + "] analytic " + analytic + " numeric " + numeric;
        }
        if (abs > minAbs && rel > maxRel) {
          fail("gradient mismatch at " + name + "[" + i + "]: analytic " + analytic + ", numeric " + numeric
              + " (relative error " + rel + ")");
        }
      }
    }
    assertTrue(nonZero > checked / 2, "most sampled gradients should be non-zero: " + nonZero + " of " + checked);
    return new Result(checked, nonZero, worst, worstAt);
  }

  private static double value(SameDiff sd, Map<String, INDArray> feed, String loss) {
    return sd.output(feed, loss).get(loss).getDouble(0);
  }
}
