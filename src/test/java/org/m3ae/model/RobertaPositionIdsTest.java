package org.m3ae.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.m3ae.data.text.RobertaPositions;
import org.m3ae.testing.MicroConfigs;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * RoBERTa position ids come from {@code ids != pad} (HF {@code create_position_ids_from_input_ids}), not from the
 * attention mask. Both rows below have a mask that disagrees with the padding: a literal {@code <pad>} id inside
 * the mask, and real tokens the mask hides.
 */
class RobertaPositionIdsTest {
  static final int[][] IDS = {{0, 5, 1, 7, 2, 1}, {0, 9, 8, 2, 1, 1}};
  static final float[][] MASK = {{1, 1, 1, 1, 1, 0}, {1, 1, 0, 1, 0, 0}};
  // by hand: pad (id 1) at position 1, every other id counts on from 2
  static final int[][] HF_POSITIONS = {{2, 3, 1, 4, 5, 1}, {2, 3, 4, 5, 1, 1}};
  // what cumsum(mask) · mask + 1 would give: differs in both rows
  static final int[][] MASK_POSITIONS = {{2, 3, 4, 5, 6, 1}, {2, 3, 1, 4, 1, 1}};

  @Test
  void tokenizerSidePositionsFollowTheIds() {
    for (int r = 0; r < IDS.length; r++) assertArrayEquals(HF_POSITIONS[r], RobertaPositions.of(IDS[r], 1));
  }

  @Test
  void graphEmbeddingUsesPositionsFromIdsNotFromTheMask() {
    ModelConfig c = MicroConfigs.micro();
    M3aeGraph g = M3aeModel.build(c, BuildOptions.defaults());
    String p = "language_encoder.embeddings.";
    int d = c.text().encoder().width();
    // a LayerNorm that is not the identity, so a wrong row cannot hide behind normalisation alone
    SplittableRandom rng = new SplittableRandom(3);
    for (String n : new String[] {p + "LayerNorm.weight", p + "LayerNorm.bias"}) {
      INDArray a = g.sd().getVariable(n).getArr();
      for (int i = 0; i < d; i++) a.putScalar(i, rng.nextDouble(-1, 1));
    }
    float[][] word = g.sd().getVariable(p + "word_embeddings.weight").getArr().toFloatMatrix();
    float[][] pos = g.sd().getVariable(p + "position_embeddings.weight").getArr().toFloatMatrix();
    float[] type = g.sd().getVariable(p + "token_type_embeddings.weight").getArr().toFloatMatrix()[0];
    float[] gain = g.sd().getVariable(p + "LayerNorm.weight").getArr().toFloatVector();
    float[] bias = g.sd().getVariable(p + "LayerNorm.bias").getArr().toFloatVector();

    Map<String, INDArray> in = new HashMap<>(RandomInputs.forPass(g, g.pass(""), 2, 5));
    in.put(Names.TEXT_IDS, Nd4j.createFromArray(IDS));
    in.put(Names.TEXT_MASK, Nd4j.createFromArray(MASK));
    float[][][] got = toArray(g.sd().output(in, Names.textHidden(0)).get(Names.textHidden(0)), d);

    double eps = c.text().encoder().lnEps();
    double worstRight = 0, worstWrong = 0;
    for (int b = 0; b < 2; b++) {
      for (int t = 0; t < IDS[b].length; t++) {
        double[] right = embedding(word[IDS[b][t]], pos[HF_POSITIONS[b][t]], type, gain, bias, eps);
        double[] wrong = embedding(word[IDS[b][t]], pos[MASK_POSITIONS[b][t]], type, gain, bias, eps);
        for (int i = 0; i < d; i++) {
          worstRight = Math.max(worstRight, Math.abs(got[b][t][i] - right[i]));
          worstWrong = Math.max(worstWrong, Math.abs(got[b][t][i] - wrong[i]));
        }
      }
    }
    assertTrue(worstRight < 1e-5, "max |graph - LN(word + pos(ids != pad) + type)| = " + worstRight);
    assertTrue(worstWrong > 1e-2, "the mask-derived positions must give a visibly different embedding: " + worstWrong);
  }

  static double[] embedding(float[] w, float[] p, float[] t, float[] gain, float[] bias, double eps) {
    int d = w.length;
    double[] x = new double[d];
    double mean = 0;
    for (int i = 0; i < d; i++) mean += x[i] = (double) w[i] + p[i] + t[i];
    mean /= d;
    double var = 0;
    for (int i = 0; i < d; i++) var += (x[i] - mean) * (x[i] - mean);
    var /= d;
    for (int i = 0; i < d; i++) x[i] = (x[i] - mean) / Math.sqrt(var + eps) * gain[i] + bias[i];
    return x;
  }

  static float[][][] toArray(INDArray a, int d) {
    assertEquals(3, a.rank());
    float[][][] r = new float[(int) a.size(0)][(int) a.size(1)][d];
    for (int b = 0; b < r.length; b++) r[b] = a.slice(b).toFloatMatrix();
    return r;
  }
}
