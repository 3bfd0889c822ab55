package org.m3ae.tasks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.m3ae.model.ModelConfig;
import org.m3ae.model.Names;
import org.m3ae.testing.MicroConfigs;
import org.m3ae.weights.SafetensorsWriter;
import org.m3ae.weights.TensorSource;
import org.m3ae.weights.TensorSources;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Head layout per dataset (SPEC §2.5), the irtr_head initialisation, the loss value, and the retrieval feed. */
class TaskHeadsTest {
  static final ModelConfig MICRO = MicroConfigs.micro();

  static Map<String, INDArray> inputs(TaskGraph g, int b) {
    Map<String, INDArray> f = new HashMap<>();
    var v = MICRO.vision();
    f.put(g.image(), Nd4j.rand(DataType.FLOAT, b, 3, v.imageSize(), v.imageSize()));
    int[][] ids = new int[b][g.textLen()];
    float[][] mask = new float[b][g.textLen()];
    for (int i = 0; i < b; i++) for (int j = 0; j < g.textLen(); j++) {
      ids[i][j] = j < 3 ? 4 + i + j : 1;
      mask[i][j] = j < 3 ? 1 : 0;
    }
    f.put(g.textIds(), Nd4j.createFromArray(ids));
    f.put(g.textMask(), Nd4j.createFromArray(mask));
    return f;
  }

  @Test
  void headShapesPerDataset() {
    // VQA-RAD 498, SLAKE 222, VQA-2019 79 answers; MELINDA p_meth_label 7 classes; retrieval one score
    Map<String, Integer> sizes = Map.of("vqa-rad", 498, "slake", 222, "vqa-med-2019", 79);
    for (var e : sizes.entrySet()) {
      TaskGraph g = TaskGraph.inference(MICRO, TaskKind.VQA, e.getValue(), 6);
      INDArray out = g.sd().output(inputs(g, 2), TaskGraph.LOGITS).get(TaskGraph.LOGITS);
      assertArrayEquals(new long[] {2, e.getValue()}, out.shape(), e.getKey());
      int j = MICRO.fusion().jointDim();
      assertArrayEquals(new long[] {j, j}, g.sd().getVariable("vqa_head.0.weight").getArr().shape());
      assertArrayEquals(new long[] {j}, g.sd().getVariable("vqa_head.1.weight").getArr().shape());
      assertArrayEquals(new long[] {j, e.getValue()}, g.sd().getVariable("vqa_head.3.weight").getArr().shape());
    }
    TaskGraph cls = TaskGraph.inference(MICRO, TaskKind.CLASSIFICATION, 7, 6);
    assertArrayEquals(new long[] {3, 7}, cls.sd().output(inputs(cls, 3), TaskGraph.LOGITS).get(TaskGraph.LOGITS).shape());
    assertNotNull(cls.sd().getVariable("cls_head.3.bias"));
    TaskGraph ir = TaskGraph.inference(MICRO, TaskKind.RETRIEVAL, 0, 6);
    assertArrayEquals(new long[] {3, 1}, ir.sd().output(inputs(ir, 3), TaskGraph.LOGITS).get(TaskGraph.LOGITS).shape());
    assertArrayEquals(new long[] {MICRO.fusion().jointDim(), 1}, ir.sd().getVariable("irtr_head.weight").getArr().shape());
  }

  @Test
  void vqaLossIsBceTimesAnswerCount() {
    int a = 5;
    TaskGraph g = TaskGraph.build(MICRO, TaskKind.VQA, a, 6, TaskGraph.Mode.FROZEN_EMBEDDINGS, 1, 0);
    Map<String, INDArray> f = inputs(g, 2);
    INDArray t = Nd4j.zeros(DataType.FLOAT, 2, a);
    t.putScalar(0, 1, 1f);
    t.putScalar(1, 4, 1f);
    f.put(TaskGraph.VQA_TARGETS, t);
    Map<String, INDArray> o = g.sd().output(f, TaskGraph.LOGITS, TaskGraph.LOSS);
    float[] x = o.get(TaskGraph.LOGITS).reshape(-1).toFloatVector();
    float[] y = t.reshape(-1).toFloatVector();
    double sum = 0;
    for (int i = 0; i < x.length; i++) {
      double p = 1 / (1 + Math.exp(-x[i]));
      sum += -(y[i] * Math.log(p) + (1 - y[i]) * Math.log(1 - p));
    }
    assertEquals(sum / x.length * a, o.get(TaskGraph.LOSS).getDouble(0), 1e-4);
  }

  @Test
  void irtrHeadStartsFromTheItmMatchColumn(@TempDir Path dir) {
    int in = MICRO.fusion().jointDim();
    float[] w = new float[in * 2];
    for (int i = 0; i < in; i++) {
      w[i * 2] = -100 - i; // column 0: "no match", must not be copied
      w[i * 2 + 1] = i + 0.5f;
    }
    Path file = dir.resolve("itm.safetensors");
    new SafetensorsWriter().add("itm_head.fc.weight", new long[] {in, 2}, w).add("itm_head.fc.bias", new long[] {2}, new float[] {-7f, 3.25f}).write(file);
    TaskGraph g = TaskGraph.inference(MICRO, TaskKind.RETRIEVAL, 0, 6);
    try (TensorSource src = TensorSources.open(file)) {
      assertTrue(TaskHeads.initIrtrFromItm(g.irtr(), src));
    }
    INDArray hw = g.sd().getVariable("irtr_head.weight").getArr();
    for (int i = 0; i < in; i++) assertEquals(i + 0.5f, hw.getFloat(i, 0), 0f);
    assertEquals(3.25f, g.sd().getVariable("irtr_head.bias").getArr().getFloat(0), 0f);
    // the head then scores a pair exactly as the ITM match logit: joint · w[:,1] + b[1]
    Map<String, INDArray> o = g.sd().output(inputs(g, 2), TaskGraph.LOGITS, g.pass().name(Names.JOINT));
    INDArray joint = o.get(g.pass().name(Names.JOINT));
    double expect = joint.getRow(0).mul(hw.reshape(-1)).sumNumber().doubleValue() + 3.25;
    assertEquals(expect, o.get(TaskGraph.LOGITS).getDouble(0, 0), 1e-3);
  }

  @Test
  void irtrInitRejectsAWrongShapeAndReportsAMissingHead(@TempDir Path dir) {
    TaskGraph g = TaskGraph.inference(MICRO, TaskKind.RETRIEVAL, 0, 6);
    Path bad = dir.resolve("bad.safetensors");
    new SafetensorsWriter().add("itm_head.fc.weight", new long[] {3, 2}, new float[6]).add("itm_head.fc.bias", new long[] {2}, new float[2]).write(bad);
    try (TensorSource src = TensorSources.open(bad)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TaskHeads.initIrtrFromItm(g.irtr(), src));
      assertTrue(e.getMessage().contains("itm_head.fc.weight"), e.getMessage());
    }
    Path none = dir.resolve("none.safetensors");
    new SafetensorsWriter().add("other", new long[] {1}, new float[1]).write(none);
    try (TensorSource src = TensorSources.open(none)) {
      assertFalse(TaskHeads.initIrtrFromItm(g.irtr(), src));
    }
  }

  @Test
  void retrievalNegativesAreOtherImagesCaptions() {
    SplittableRandom rng = new SplittableRandom(3);
    for (int self = 0; self < 5; self++) {
      int[] neg = FinetuneTask.negatives(self, 5, 4, rng);
      java.util.Set<Integer> seen = new java.util.HashSet<>();
      for (int n : neg) {
        assertTrue(n != self && n >= 0 && n < 5);
        assertTrue(seen.add(n), "no repeats while enough other rows exist");
      }
    }
    int[] many = FinetuneTask.negatives(0, 3, 15, rng); // fewer others than negatives: cycle, never self
    for (int n : many) assertTrue(n == 1 || n == 2);
  }

  @Test
  void retrievalTrainingLossIsCrossEntropyOverEachGroup() {
    int c = 3;
    TaskGraph g = TaskGraph.build(MICRO, TaskKind.RETRIEVAL, 0, 6, TaskGraph.Mode.FROZEN_EMBEDDINGS, c, 0);
    Map<String, INDArray> f = inputs(g, 2 * c);
    f.put(TaskGraph.IRTR_LABELS, Nd4j.zeros(DataType.INT32, 2));
    f.put(TaskGraph.WEIGHTS, Nd4j.ones(DataType.FLOAT, 2));
    Map<String, INDArray> o = g.sd().output(f, TaskGraph.LOGITS, TaskGraph.LOSS);
    float[] s = o.get(TaskGraph.LOGITS).reshape(-1).toFloatVector();
    double loss = 0;
    for (int grp = 0; grp < 2; grp++) {
      double lse = 0;
      for (int k = 0; k < c; k++) lse += Math.exp(s[grp * c + k]);
      loss += Math.log(lse) - s[grp * c];
    }
    assertEquals(loss / 2, o.get(TaskGraph.LOSS).getDouble(0), 1e-4);
  }
}
