package org.m3ae.model;

import java.util.Arrays;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Creates the graph's trainable variables, named like the official M3AE state_dict (SPEC §4) so the weight mapping
 * stays greppable. A name asked for twice returns the same variable: that is how several forward passes (MLM, MIM,
 * ITM) in one SameDiff share weights.
 *
 * <p>Initial values are drawn per variable from a seed derived from {@code init.seed} and the name, so a variable's
 * starting value does not depend on the order in which blocks are built. With {@code allocate = false} weights are
 * zero-filled instead (shape-only builds, e.g. counting parameters).
 */
public final class Params {
  /** A Linear layer stored DL4J-style: weight [in, out], bias [out] (or null). */
  public record Linear(SDVariable w, SDVariable b, int in, int out) {}

  /** LayerNorm gain and shift over the last axis, with its epsilon. */
  public record Norm(SDVariable gain, SDVariable shift, double eps) {}

  private final SameDiff sd;
  private final DataType dtype;
  private final double std;
  private final long seed;
  private final boolean randomInit;
  private final SameDiff shareFrom;

  public Params(SameDiff sd, DataType dtype, double std, long seed, boolean randomInit) {
    this(sd, dtype, std, seed, randomInit, null);
  }

  /**
   * @param shareFrom a graph whose weight arrays variables of the same name take — the same buffers, not copies, so
   *     an in-place update of one graph's weights is one of the other's (null: fresh arrays)
   */
  Params(SameDiff sd, DataType dtype, double std, long seed, boolean randomInit, SameDiff shareFrom) {
    this.sd = sd;
    this.dtype = dtype;
    this.std = std;
    this.seed = seed;
    this.randomInit = randomInit;
    this.shareFrom = shareFrom;
  }

  public SameDiff sd() {
    return sd;
  }

  public DataType dtype() {
    return dtype;
  }

  /** Weight drawn from N(0, init.std) — BERT's initialiser, used for every matrix no checkpoint provides. */
  public SDVariable normal(String name, long... shape) {
    return getOrCreate(name, shape, Fill.NORMAL);
  }

  public SDVariable zeros(String name, long... shape) {
    return getOrCreate(name, shape, Fill.ZEROS);
  }

  public SDVariable ones(String name, long... shape) {
    return getOrCreate(name, shape, Fill.ONES);
  }

  /** A fixed tensor stored with the graph but never trained (e.g. the MIM decoder's sin-cos positions). */
  public SDVariable constant(String name, INDArray value) {
    if (sd.hasVariable(name)) return existing(name, value.shape());
    return sd.constant(name, value.castTo(dtype));
  }

  public Linear linear(String prefix, int in, int out) {
    return new Linear(normal(prefix + ".weight", in, out), zeros(prefix + ".bias", out), in, out);
  }

  public Linear linearNoBias(String prefix, int in, int out) {
    return new Linear(normal(prefix + ".weight", in, out), null, in, out);
  }

  public Norm norm(String prefix, int dim, double eps) {
    return new Norm(ones(prefix + ".weight", dim), zeros(prefix + ".bias", dim), eps);
  }

  private enum Fill {
    NORMAL,
    ZEROS,
    ONES
  }

  private SDVariable getOrCreate(String name, long[] shape, Fill fill) {
    if (sd.hasVariable(name)) return existing(name, shape);
    if (shareFrom != null && shareFrom.hasVariable(name)) {
      INDArray shared = shareFrom.getArrForVarName(name);
      if (!Arrays.equals(shared.shape(), shape)) {
        throw new IllegalStateException("shared variable '" + name + "' has shape " + Arrays.toString(shared.shape())
            + ", asked for " + Arrays.toString(shape));
      }
      // sd.var keeps the array it is given; SDVariable.setArray would store a copy (1.0.0-M2.1)
      return sd.var(name, shared);
    }
    INDArray arr;
    if (!randomInit || fill == Fill.ZEROS) {
      arr = Nd4j.zeros(dtype, shape);
    } else if (fill == Fill.ONES) {
      arr = Nd4j.ones(dtype, shape);
    } else {
      Nd4j.getRandom().setSeed(seed * 1_000_003L + name.hashCode());
      arr = Nd4j.randn(dtype, shape).muli(std);
    }
    return sd.var(name, arr);
  }

  private SDVariable existing(String name, long[] shape) {
    SDVariable v = sd.getVariable(name);
    long[] have = v.getShape();
    if (have != null && !Arrays.equals(have, shape)) {
      throw new IllegalStateException(
          "variable '" + name + "' already exists with shape " + Arrays.toString(have) + ", asked for " + Arrays.toString(shape));
    }
    return v;
  }
}
