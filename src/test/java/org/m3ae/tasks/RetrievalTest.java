package org.m3ae.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.m3ae.testing.MicroConfigs;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** Full cross-encoder scoring against one-pair forwards, and the re-ranking mode's agreement with it. */
class RetrievalTest {
  static Retrieval.Set set(int ni, int nt, int len) {
    Nd4j.getRandom().setSeed(11);
    INDArray images = Nd4j.rand(DataType.FLOAT, ni, 3, 16, 16).subi(0.5);
    int[][] ids = new int[nt][len];
    float[][] mask = new float[nt][len];
    for (int j = 0; j < nt; j++) for (int k = 0; k < len; k++) {
      boolean real = k < 2 + j % 3;
      ids[j][k] = real ? 3 + (7 * j + 5 * k) % 30 : 1;
      mask[j][k] = real ? 1 : 0;
    }
    int[] textImage = new int[nt];
    for (int j = 0; j < nt; j++) textImage[j] = j % ni;
    return new Retrieval.Set(images, Nd4j.createFromArray(ids), Nd4j.createFromArray(mask), textImage);
  }

  /** The task graph's own forward of one (image, text) pair: image and ids in, task logit out. */
  static float crossEncoder(TaskGraph g, Retrieval.Set s, int i, int j) {
    Map<String, INDArray> f = Map.of(
        g.image(), s.images().get(NDArrayIndex.interval(i, i + 1)).castTo(DataType.FLOAT),
        g.textIds(), s.ids().get(NDArrayIndex.interval(j, j + 1)).castTo(DataType.INT32),
        g.textMask(), s.mask().get(NDArrayIndex.interval(j, j + 1)).castTo(DataType.FLOAT));
    return g.sd().output(f, TaskGraph.LOGITS).get(TaskGraph.LOGITS).getFloat(0);
  }

  @Test
  void fullScoresEqualTheTaskGraphsOwnForwardOfEachPairWhateverTheChunk() {
    // the scorer runs the towers once per image and text and only fusion per pair: the same function, split
    TaskGraph g = TaskGraph.build(MicroConfigs.micro(), TaskKind.RETRIEVAL, 0, 6, TaskGraph.Mode.INFERENCE, 1, 5);
    Retrieval.Set s = set(3, 5, 6);
    float[][] a = Retrieval.fullScores(g, s, 4, null);
    float[][] b = Retrieval.fullScores(g, s, 64, null);
    float lo = Float.MAX_VALUE, hi = -Float.MAX_VALUE;
    for (int i = 0; i < 3; i++) for (int j = 0; j < 5; j++) {
      float one = crossEncoder(g, s, i, j);
      assertEquals(one, a[i][j], 1e-5, "pair " + i + "," + j);
      assertEquals(a[i][j], b[i][j], 1e-5);
      lo = Math.min(lo, one);
      hi = Math.max(hi, one);
    }
    assertTrue(hi - lo > 1e-3, "the scores differ between pairs, or the comparison shows nothing: " + lo + " … " + hi);
  }

  @Test
  void pairScoresReadTheWeightsOfATrainingGraphWithFrozenTables() {
    // fine-tuning validates with the graph it trains (frozen word/position tables are constants there)
    TaskGraph g = TaskGraph.build(MicroConfigs.micro(), TaskKind.RETRIEVAL, 0, 6, TaskGraph.Mode.FROZEN_EMBEDDINGS, 2, 5);
    g.freezeEmbeddings();
    Retrieval.Set s = set(2, 3, 6);
    float[] got = Retrieval.scorePairs(g, s, new int[] {0, 1, 1}, new int[] {2, 0, 1}, 2, null);
    assertEquals(crossEncoder(g, s, 0, 2), got[0], 1e-5);
    assertEquals(crossEncoder(g, s, 1, 0), got[1], 1e-5);
    assertEquals(crossEncoder(g, s, 1, 1), got[2], 1e-5);
  }

  @Test
  void rerankWithAShortlistOfEverythingEqualsFullScoring() {
    TaskGraph g = TaskGraph.build(MicroConfigs.micro(), TaskKind.RETRIEVAL, 0, 6, TaskGraph.Mode.INFERENCE, 1, 5);
    Retrieval.Set s = set(4, 6, 6);
    float[][] full = Retrieval.fullScores(g, s, 32, null);
    float[][] fast = Retrieval.rerankScores(g, s, 6, 32, null);
    Map<String, Double> rf = Metrics.recall(full, s.textImage(), 1, 2, 3);
    assertEquals(rf, Metrics.recall(fast, s.textImage(), 1, 2, 3));
    // a shortlist of 1: each image's best stage-1 text and each text's best stage-1 image get a cross-encoder
    // score, exactly those pairs (the union of both shortlists), and every other pair ranks below them
    float[][] k1 = Retrieval.rerankScores(g, s, 1, 32, null);
    float[][] cos = Retrieval.stage1(g, s, 32);
    java.util.Set<String> expected = new java.util.TreeSet<>(), rescored = new java.util.TreeSet<>();
    for (int i = 0; i < 4; i++) {
      int best = 0;
      for (int j = 1; j < 6; j++) if (cos[i][j] > cos[i][best]) best = j;
      expected.add(i + "," + best);
    }
    for (int j = 0; j < 6; j++) {
      int best = 0;
      for (int i = 1; i < 4; i++) if (cos[i][j] > cos[best][j]) best = i;
      expected.add(best + "," + j);
    }
    for (int i = 0; i < 4; i++) for (int j = 0; j < 6; j++) if (k1[i][j] > -1e5f) rescored.add(i + "," + j);
    assertEquals(expected, rescored);
  }

  @Test
  void stage1IsCosineInMinusOneToOne() {
    TaskGraph g = TaskGraph.build(MicroConfigs.micro(), TaskKind.RETRIEVAL, 0, 6, TaskGraph.Mode.INFERENCE, 1, 5);
    float[][] c = Retrieval.stage1(g, set(3, 4, 6), 2);
    for (float[] row : c) for (float v : row) assertTrue(v >= -1.0001f && v <= 1.0001f, "cosine " + v);
  }
}
