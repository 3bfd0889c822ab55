package org.m3ae.model;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Seeded synthetic placeholder values for a pass: images ~ N(0,1) (the scale of CLIP-normalised pixels), token ids
 * with a random real length per row and padding after it, sorted random visible patches. For smoke runs, shape
 * checks, gradient checks and benchmarks — never for results.
 */
public final class RandomInputs {
  private RandomInputs() {}

  public static Map<String, INDArray> forPass(M3aeGraph g, Pass p, int batch, long seed) {
    ModelConfig c = g.config();
    SplittableRandom rng = new SplittableRandom(seed);
    DataType dt = g.dtype();
    var v = c.vision();
    int lt = p.textLen();
    Map<String, INDArray> m = new HashMap<>();

    Nd4j.getRandom().setSeed(seed);
    m.put(p.name(Names.IMAGE), Nd4j.randn(dt, batch, v.channels(), v.imageSize(), v.imageSize()));

    int[][] ids = new int[batch][lt];
    double[][] mask = new double[batch][lt];
    int pad = c.text().padTokenId();
    for (int b = 0; b < batch; b++) {
      int real = 2 + rng.nextInt(Math.max(1, lt - 1)); // at least 2 real tokens, maybe the full length
      for (int t = 0; t < lt; t++) {
        boolean isReal = t < Math.min(real, lt);
        int id;
        do {
          id = rng.nextInt(c.text().vocabSize());
        } while (id == pad);
        ids[b][t] = isReal ? id : pad;
        mask[b][t] = isReal ? 1 : 0;
      }
    }
    m.put(p.name(Names.TEXT_IDS), Nd4j.createFromArray(ids));
    m.put(p.name(Names.TEXT_MASK), Nd4j.createFromArray(mask).castTo(dt));
    if (p.spec().typeIds()) m.put(p.name(Names.TEXT_TYPE_IDS), Nd4j.zeros(DataType.INT32, batch, lt));
    if (p.spec().visiblePatches()) {
      int n = v.numPatches(), k = c.mimKeep();
      int[][] keep = new int[batch][k];
      for (int b = 0; b < batch; b++) {
        int[] perm = new int[n];
        for (int i = 0; i < n; i++) perm[i] = i;
        for (int i = n - 1; i > 0; i--) {
          int j = rng.nextInt(i + 1);
          int t = perm[i];
          perm[i] = perm[j];
          perm[j] = t;
        }
        int[] sel = java.util.Arrays.copyOf(perm, k);
        java.util.Arrays.sort(sel);
        keep[b] = sel;
      }
      m.put(p.name(Names.IMAGE_KEEP_IDS), Nd4j.createFromArray(keep));
    }
    if (p.spec().training()) {
      String prefix = Names.qualified(p.spec().name(), "dropout/");
      g.dropout().identity(batch, dt).forEach((k, val) -> {
        if (k.startsWith(prefix)) m.put(k, val);
      });
    }
    return m;
  }
}
