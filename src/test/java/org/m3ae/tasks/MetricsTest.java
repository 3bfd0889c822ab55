package org.m3ae.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The paper's metrics against cases computed by hand. */
class MetricsTest {
  @Test
  void argmaxTakesTheFirstOfTiedMaxima() {
    assertEquals(1, Metrics.argmax(new float[] {0.1f, 0.7f, 0.7f, 0.2f}));
    assertEquals(0, Metrics.argmax(new float[] {3f, 3f, 3f}));
    assertEquals(2, Metrics.argmax(new float[] {Float.NaN, -1f, 5f}));
    assertThrows(IllegalArgumentException.class, () -> Metrics.argmax(new float[] {Float.NaN}));
  }

  @Test
  void vqaSplitsClosedAndOpenAndCountsUnseenAnswersWrong() {
    // 4 closed (3 right), 3 open (1 right, 1 wrong, 1 answer outside the vocabulary predicted "right" by index)
    int[] pred = {0, 1, 1, 0, 5, 6, 7};
    int[] gold = {0, 1, 1, 1, 5, 2, -1};
    boolean[] closed = {true, true, true, true, false, false, false};
    Metrics.VqaScore s = Metrics.vqa(pred, gold, closed);
    assertEquals(7, s.n());
    assertEquals(4, s.closedN());
    assertEquals(3, s.openN());
    assertEquals(0.75, s.closed(), 1e-12);
    assertEquals(1.0 / 3, s.open(), 1e-12);
    assertEquals(4.0 / 7, s.overall(), 1e-12); // overall is per question, not the mean of closed and open
    Map<String, Double> m = s.asMap();
    assertEquals(0.75, m.get("closed"), 1e-12);
  }

  @Test
  void vqaRejectsMismatchedLengthsAndEmptySubsetsAreNaN() {
    assertThrows(IllegalArgumentException.class, () -> Metrics.vqa(new int[2], new int[3], new boolean[3]));
    Metrics.VqaScore s = Metrics.vqa(new int[] {1}, new int[] {1}, new boolean[] {true});
    assertEquals(1.0, s.closed());
    assertEquals(Double.NaN, s.open());
  }

  @Test
  void accuracyCountsUnknownLabelsWrong() {
    assertEquals(0.5, Metrics.accuracy(new int[] {1, 2, 3, 0}, new int[] {1, 2, -1, 1}), 1e-12);
  }

  @Test
  void recallOnAHandBuiltScoreMatrix() {
    // 3 images, 4 texts; text 3 is a second caption of image 0
    float[][] s = {
        {0.9f, 0.1f, 0.8f, 0.2f}, // image 0: own texts 0 (rank 0) and 3
        {0.5f, 0.4f, 0.6f, 0.0f}, // image 1: own text 1 is behind texts 2 and 0 → rank 2
        {0.1f, 0.2f, 0.3f, 0.9f}, // image 2: own text 2 is behind text 3 (of image 0) → rank 1
    };
    int[] textImage = {0, 1, 2, 0};
    Map<String, Double> r = Metrics.recall(s, textImage, 1, 2, 3);
    assertEquals(1.0 / 3, r.get("i2t_r1"), 1e-12);
    assertEquals(2.0 / 3, r.get("i2t_r2"), 1e-12);
    assertEquals(1.0, r.get("i2t_r3"), 1e-12);
    // text→image: column 0 → image 0 first; col 1 → image 1 (0.4) first; col 2 → image 0 (0.8) > 1 (0.6) > 2 (0.3): rank 2;
    // col 3 → image 2 (0.9) > image 0 (0.2): rank 1
    assertEquals(0.5, r.get("t2i_r1"), 1e-12);
    assertEquals(0.75, r.get("t2i_r2"), 1e-12);
    assertEquals(1.0, r.get("t2i_r3"), 1e-12);
  }

  @Test
  void tiesRankPessimisticallySoConstantScoresEarnNothing() {
    float[][] s = {{1f, 1f}, {1f, 1f}};
    Map<String, Double> r = Metrics.recall(s, new int[] {0, 1}, 1, 2);
    assertEquals(0.0, r.get("i2t_r1"));
    assertEquals(0.0, r.get("t2i_r1"));
    assertEquals(1.0, r.get("i2t_r2"));
    assertEquals(1, Metrics.rank(new float[] {0.5f, 0.5f, 0.1f}, 0));
    assertEquals(1, Metrics.rank(new float[] {0.5f, 0.5f, 0.1f}, 1));
  }

  @Test
  void recallChecksShapes() {
    assertThrows(IllegalArgumentException.class, () -> Metrics.recall(new float[][] {{1f}}, new int[] {0, 0}, 1));
    assertThrows(IllegalArgumentException.class, () -> Metrics.recall(new float[][] {{1f}}, new int[] {3}, 1));
  }

  @Test
  void majorityTieBreakIsAlphabetical() {
    assertEquals("no", Evaluator.argmaxKey(new java.util.HashMap<>(Map.of("yes", 3, "no", 3, "left", 1))));
  }
}
