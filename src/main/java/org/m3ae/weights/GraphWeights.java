package org.m3ae.weights;

import java.nio.file.Path;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * Graph weights saved as {@code .safetensors} in graph layout. SameDiff 1.0.0-M2.1 serialises a
 * graph through a FlatBuffers builder that starts at 1 KB and doubles, and refuses to grow past a
 * 1 GiB buffer ("cannot grow buffer beyond 2 gigabytes"), so {@code save} fails for any graph
 * whose arrays pass ~1 GiB: the full teacher (~1.47 GB, SPEC §1.6) cannot be an .sdz. Its weights
 * go here instead and are loaded back into a graph rebuilt from the config.
 */
public final class GraphWeights {
  /** Metadata marking the layout, so {@link TensorSources#keyMapFor} picks {@link GraphKeyMap}. */
  public static final String LAYOUT_KEY = "m3ae.layout";
  public static final String LAYOUT_GRAPH = "graph";

  /** FlatBuffers' last successful doubling gives a 1 GiB buffer; graph structure needs some too. */
  public static final long SDZ_LIMIT_BYTES = (1L << 30) - (64L << 20);

  private GraphWeights() {}

  public static long trainableBytes(SameDiff sd) {
    long b = 0;
    for (SDVariable v : sd.variables()) {
      if ((v.getVariableType() == VariableType.VARIABLE || v.getVariableType() == VariableType.CONSTANT)
          && v.getArr() != null) {
        b += v.getArr().length() * v.getArr().dataType().width();
      }
    }
    return b;
  }

  public static void write(SameDiff sd, Path file, String configName) {
    SafetensorsWriter w = new SafetensorsWriter().metadata(LAYOUT_KEY, LAYOUT_GRAPH).metadata("m3ae.config", configName);
    for (SDVariable v : sd.variables()) {
      if (v.getVariableType() != VariableType.VARIABLE) continue;
      var arr = v.getArr();
      w.add(v.name(), arr.shape(), () -> arr.castTo(DataType.FLOAT).dup('c').data().asFloat());
    }
    w.write(file);
  }
}
