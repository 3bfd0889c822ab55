package org.m3ae.masking;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Stage 1 of §3.3 on maps small enough to work out by hand. */
class PatchImportanceTest {
  @Test
  void clsRowMeanOverHeadsAndTextTokenMeanOverRealTokens() {
    // vision attention [B=1, h=2, 3 tokens (CLS + 2 patches), 3]
    INDArray va = Nd4j.createFromArray(new float[][][][] {{
        {{0.2f, 0.5f, 0.3f}, {1, 0, 0}, {1, 0, 0}},
        {{0.4f, 0.1f, 0.5f}, {1, 0, 0}, {1, 0, 0}}}});
    INDArray uni = PatchImportance.uniModal(va);
    assertEquals(0.3, uni.getDouble(0, 0), 1e-6); // (0.5 + 0.1) / 2
    assertEquals(0.4, uni.getDouble(0, 1), 1e-6); // (0.3 + 0.5) / 2
    // cross attention text → image [1, h=1, Lt=3, 3]; the third text token is padding and must not count.
    INDArray ca = Nd4j.createFromArray(new float[][][][] {{{{0.1f, 0.6f, 0.3f}, {0.5f, 0.1f, 0.4f}, {0, 0, 1}}}});
    INDArray mask = Nd4j.createFromArray(new float[][] {{1, 1, 0}});
    INDArray mul = PatchImportance.multiModal(ca, mask);
    assertEquals(0.35, mul.getDouble(0, 0), 1e-6);
    assertEquals(0.35, mul.getDouble(0, 1), 1e-6);
    float[][] s = PatchImportance.combine(uni, mul); // sums 0.65, 0.75 → normalised 0, 1
    assertEquals(0.0, s[0][0], 1e-6);
    assertEquals(1.0, s[0][1], 1e-6);
  }
}
