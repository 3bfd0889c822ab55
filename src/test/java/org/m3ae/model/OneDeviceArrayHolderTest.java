package org.m3ae.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.array.ThreadSafeArrayHolder;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The array holder every model graph uses: stock SameDiff semantics on one device, no hidden copies. */
class OneDeviceArrayHolderTest {

  @Test
  void keepsTheGivenArrayCopiesViewsAndUpdatesInPlace() {
    OneDeviceArrayHolder h = new OneDeviceArrayHolder();
    INDArray w = Nd4j.createFromArray(new float[][] {{1, 2}, {3, 4}});
    h.setArray("w", w);
    assertSame(w, h.getArray("w"), "the array itself, not a copy");

    INDArray stored = h.getArray("w");
    h.setArray("w", Nd4j.createFromArray(new float[][] {{5, 6}, {7, 8}}));
    assertSame(stored, h.getArray("w"), "same shape: values copied into the stored array");
    assertEquals(Nd4j.createFromArray(new float[][] {{5, 6}, {7, 8}}), stored);

    INDArray other = Nd4j.createFromArray(new float[] {9, 10, 11});
    h.setArray("w", other);
    assertSame(other, h.getArray("w"), "another shape replaces the array");

    INDArray big = Nd4j.createFromArray(new float[][] {{1, 2, 3}, {4, 5, 6}});
    INDArray view = big.getRow(1);
    h.setArray("v", view);
    assertNotSame(view, h.getArray("v"));
    assertFalse(h.getArray("v").isView());
    big.putScalar(1, 0, 100);
    assertEquals(4f, h.getArray("v").getFloat(0), "a view is copied, as SameDiff's own holder does");
  }

  @Test
  void graphsSharingWeightsComputeWithOneBufferAndMatchSameDiffsOwnHolder() {
    ModelConfig cfg = ModelConfig.load(Path.of("configs/models/tiny-student.yaml"));
    M3aeGraph g = M3aeModel.build(cfg, BuildOptions.defaults());
    M3aeGraph shared = M3aeModel.sharingWeights(g);
    shared.addPass(BuildOptions.defaults().pass());
    String name = g.trainable().get(0).name();
    assertSame(g.sd().getArrForVarName(name), shared.sd().getArrForVarName(name));

    Map<String, INDArray> in = RandomInputs.forPass(g, g.pass(""), 2, 3);
    g.sd().getArrForVarName(name).addi(0.5); // an optimiser's in-place update reaches every sharing graph
    INDArray ours = g.sd().output(in, Names.JOINT).get(Names.JOINT);
    assertEquals(ours, shared.sd().output(in, Names.JOINT).get(Names.JOINT));

    // The same graph over SameDiff's default holder (ThreadSafeArrayHolder, lazy) computes the same output.
    g.sd().setArrayHolders(new ThreadSafeArrayHolder(true), new ThreadSafeArrayHolder(true), true);
    assertEquals(ours, g.sd().output(in, Names.JOINT).get(Names.JOINT));
  }
}
