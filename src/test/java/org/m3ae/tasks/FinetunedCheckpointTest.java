package org.m3ae.tasks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.m3ae.data.text.TextTokenizer;
import org.m3ae.data.text.TokenizerSpec;
import org.m3ae.data.text.TokenizerStyle;
import org.m3ae.model.ModelConfig;
import org.m3ae.model.Names;
import org.m3ae.weights.LoadReport;
import org.m3ae.weights.SafetensorsReader;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.m3ae.testing.Exact;

/**
 * A fine-tuned M3AE as the official code saves it (backbone plus vqa_head / cls_head / irtr_head under the names of
 * m3ae_module.py, PyTorch layout), written by real PyTorch (scripts/fixtures/make_ckpt_fixtures.py,
 * micro-m3ae-finetuned.ckpt): loaded into the task graphs, every head's logits equal the logits PyTorch computed with
 * nn.Sequential(Linear, LayerNorm, GELU, Linear) / nn.Linear on the same inputs; {@code finetune --init} continues from
 * the file's head or, with {@link HeadInit#FRESH}, ignores it; a head of another label count is an error naming the key
 * and both shapes.
 */
class FinetunedCheckpointTest {
  private static final Path DIR = Path.of("src/test/resources/ckpt");
  private static final Path FINETUNED = DIR.resolve("micro-m3ae-finetuned.ckpt");
  private static final ModelConfig MICRO = ModelConfig.load(DIR.resolve("micro-m3ae.yaml"));
  private static final int TEXT_LEN = 8, VQA_ANSWERS = 5, CLS_CLASSES = 3;
  private static final double TOLERANCE = 1e-5;
  private static final TextTokenizer SYNTHETIC_TOKENS =
      TextTokenizer.load(new TokenizerSpec(TokenizerSpec.EMBEDDED_SYNTHETIC, TokenizerStyle.BERT, 8));

  private static Map<String, INDArray> pytorch() {
    Map<String, INDArray> m = new LinkedHashMap<>();
    try (SafetensorsReader r = SafetensorsReader.open(DIR.resolve("micro-m3ae-finetuned-logits.safetensors"))) {
      for (String k : r.keys()) m.put(k, Nd4j.create(r.readFloats(k), r.shape(k), 'c'));
    }
    return m;
  }

  private static Map<String, INDArray> feed(TaskGraph g) {
    Map<String, INDArray> f = new LinkedHashMap<>();
    try (SafetensorsReader r = SafetensorsReader.open(DIR.resolve("micro-m3ae-inputs.safetensors"))) {
      f.put(g.image(), Nd4j.create(r.readFloats(Names.IMAGE), r.shape(Names.IMAGE), 'c'));
      f.put(g.textIds(), Nd4j.create(r.readFloats(Names.TEXT_IDS), r.shape(Names.TEXT_IDS), 'c').castTo(DataType.INT32));
      f.put(g.textMask(), Nd4j.create(r.readFloats(Names.TEXT_MASK), r.shape(Names.TEXT_MASK), 'c'));
    }
    return f;
  }

  private static INDArray logits(TaskGraph g) {
    return g.sd().output(feed(g), TaskGraph.LOGITS).get(TaskGraph.LOGITS);
  }

  private static double maxDiff(INDArray a, INDArray b) {
    assertArrayEquals(b.shape(), a.shape());
    return a.castTo(DataType.DOUBLE).sub(b.castTo(DataType.DOUBLE)).amaxNumber().doubleValue();
  }

  private static PrintStream sink(ByteArrayOutputStream buf) {
    return new PrintStream(buf, true);
  }

  @Test
  void evaluateScoresTheReleasedLayoutWithPyTorchsLogits() {
    Map<String, INDArray> want = pytorch();
    double worst = 0;
    for (TaskKind kind : TaskKind.values()) {
      int outputs = kind == TaskKind.VQA ? VQA_ANSWERS : kind == TaskKind.CLASSIFICATION ? CLS_CLASSES : 0;
      TaskGraph g = TaskGraph.build(MICRO, kind, outputs, TEXT_LEN, TaskGraph.Mode.INFERENCE, 1, 99);
      FinetuneRun.loadInto(g.sd(), FINETUNED); // what evaluate --checkpoint does: every variable, head included
      String key = switch (kind) {
        case VQA -> "vqa.logits";
        case CLASSIFICATION -> "cls.logits";
        case RETRIEVAL -> "irtr.logits";
      };
      Map<String, INDArray> got = g.sd().output(feed(g), TaskGraph.LOGITS, g.pass().joint().name());
      double dj = maxDiff(got.get(g.pass().joint().name()), want.get("joint"));
      double d = maxDiff(got.get(TaskGraph.LOGITS), want.get(key));
      System.out.printf("finetuned ckpt %s: max |Java - PyTorch| joint %.2e, logits %.2e%n", kind.id(), dj, d);
      assertTrue(d <= TOLERANCE, kind + " logits differ from PyTorch by " + d);
      worst = Math.max(worst, d);
    }
    assertTrue(worst <= TOLERANCE);
  }

  @Test
  void finetuneInitContinuesFromTheFilesHeadOrIgnoresItWhenAskedForFreshHeads() {
    Map<String, INDArray> want = pytorch();
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    TaskGraph cont = TaskGraph.build(MICRO, TaskKind.VQA, VQA_ANSWERS, TEXT_LEN, TaskGraph.Mode.INFERENCE, 1, 99);
    LoadReport r = FinetuneRun.loadPretrained(cont, FINETUNED, SYNTHETIC_TOKENS, HeadInit.CHECKPOINT, sink(buf));
    assertTrue(r.missing().isEmpty(), r.missing().toString());
    assertTrue(buf.toString().contains("task head loaded from the checkpoint (5 outputs)"), buf.toString());
    assertTrue(maxDiff(logits(cont), want.get("vqa.logits")) <= TOLERANCE);

    buf.reset();
    TaskGraph fresh = TaskGraph.build(MICRO, TaskKind.VQA, VQA_ANSWERS, TEXT_LEN, TaskGraph.Mode.INFERENCE, 1, 99);
    TaskGraph untouched = TaskGraph.build(MICRO, TaskKind.VQA, VQA_ANSWERS, TEXT_LEN, TaskGraph.Mode.INFERENCE, 1, 99);
    r = FinetuneRun.loadPretrained(fresh, FINETUNED, SYNTHETIC_TOKENS, HeadInit.FRESH, sink(buf));
    assertEquals(6, r.missing().size(), r.missing().toString()); // vqa_head.{0,1,3}.{weight,bias}
    assertTrue(r.unused().containsKey("vqa_head.3.weight"), r.unused().toString());
    assertTrue(buf.toString().contains("task head fresh"), buf.toString());
    for (String v : new String[] {"vqa_head.0.weight", "vqa_head.3.weight", "vqa_head.1.weight"}) {
      Exact.assertBitEqual(untouched.sd().getVariable(v).getArr(), fresh.sd().getVariable(v).getArr(), v + " kept its fresh init");
    }
    assertTrue(maxDiff(logits(fresh), want.get("vqa.logits")) > 0.1);

    // retrieval: the file's irtr_head (not the ITM match row, which the fixture makes differ) unless fresh
    TaskGraph irtr = TaskGraph.build(MICRO, TaskKind.RETRIEVAL, 0, TEXT_LEN, TaskGraph.Mode.INFERENCE, 1, 99);
    FinetuneRun.loadPretrained(irtr, FINETUNED, SYNTHETIC_TOKENS, HeadInit.CHECKPOINT, sink(buf));
    assertTrue(maxDiff(logits(irtr), want.get("irtr.logits")) <= TOLERANCE);
    TaskGraph irtrFresh = TaskGraph.build(MICRO, TaskKind.RETRIEVAL, 0, TEXT_LEN, TaskGraph.Mode.INFERENCE, 1, 99);
    FinetuneRun.loadPretrained(irtrFresh, FINETUNED, SYNTHETIC_TOKENS, HeadInit.FRESH, sink(buf));
    try (SafetensorsReader s = SafetensorsReader.open(DIR.resolve("micro-m3ae.safetensors"))) {
      float[] itm = s.readFloats("itm_head.fc.weight");
      int in = 2 * MICRO.fusion().width();
      for (int i = 0; i < in; i++) assertEquals(itm[in + i], irtrFresh.irtr().w().getArr().getFloat(i, 0), 0f);
      assertNotEquals(itm[in], irtr.irtr().w().getArr().getFloat(0, 0));
    }
  }

  @Test
  void aHeadOfAnotherLabelCountIsAnErrorNamingTheKeyAndBothShapes() {
    TaskGraph g = TaskGraph.build(MICRO, TaskKind.VQA, 4, TEXT_LEN, TaskGraph.Mode.INFERENCE, 1, 99);
    var e = assertThrows(IllegalArgumentException.class,
        () -> FinetuneRun.loadPretrained(g, FINETUNED, SYNTHETIC_TOKENS, HeadInit.CHECKPOINT, sink(new ByteArrayOutputStream())));
    String m = e.getMessage();
    assertTrue(m.contains(FINETUNED.toString()) && m.contains("'vqa_head.3.weight'") && m.contains("[5, 32]")
        && m.contains("[32, 4]") && m.contains("[4, 32]") && m.contains("--init-heads fresh"), m);

    var ev = assertThrows(IllegalArgumentException.class, () -> FinetuneRun.loadInto(g.sd(), FINETUNED));
    assertTrue(ev.getMessage().contains("'vqa_head.3.weight'") && ev.getMessage().contains("[5, 32]")
        && ev.getMessage().contains("evaluate with the config"), ev.getMessage());

    // asked for fresh heads, the label count does not matter
    TaskGraph fresh = TaskGraph.build(MICRO, TaskKind.CLASSIFICATION, 7, TEXT_LEN, TaskGraph.Mode.INFERENCE, 1, 99);
    LoadReport r = FinetuneRun.loadPretrained(fresh, FINETUNED, SYNTHETIC_TOKENS, HeadInit.FRESH, sink(new ByteArrayOutputStream()));
    assertTrue(r.missing().keySet().stream().allMatch(TaskHeads::isTaskHead), r.missing().toString());
  }
}
