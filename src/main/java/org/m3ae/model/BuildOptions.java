package org.m3ae.model;

import org.nd4j.linalg.api.buffer.DataType;

/**
 * How to build a graph: numeric type (FLOAT; DOUBLE for gradient checks), whether weights get random initial values
 * (false = zero-filled, for shape-only uses such as counting parameters), and the first pass.
 */
public record BuildOptions(DataType dtype, boolean randomInit, PassSpec pass) {
  public static BuildOptions defaults() {
    return new BuildOptions(DataType.FLOAT, true, PassSpec.inference());
  }

  public BuildOptions withDtype(DataType d) {
    return new BuildOptions(d, randomInit, pass);
  }

  public BuildOptions withRandomInit(boolean r) {
    return new BuildOptions(dtype, r, pass);
  }

  public BuildOptions withPass(PassSpec p) {
    return new BuildOptions(dtype, randomInit, p);
  }
}
