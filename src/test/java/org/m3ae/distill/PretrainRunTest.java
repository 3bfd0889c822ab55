package org.m3ae.distill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.m3ae.train.Checkpoints;
import org.m3ae.train.MetricsJsonl;
import org.m3ae.train.RunConfig;
import org.m3ae.train.StepMetrics;
import org.m3ae.train.TrainingDivergedException;
import org.m3ae.train.TrainingListener;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * End-to-end pre-training runs on a micro model over the embedded synthetic data: exact resume, the NaN guard, and
 * distillation from a teacher checkpoint.
 */
class PretrainRunTest {
  @TempDir static Path dir;
  static Path model;

  static final String MODEL = """
      name: micro
      vision: {image_size: 32, patch_size: 16, channels: 3,
        encoder: {width: 32, layers: 2, heads: 2, mlp_dim: 64, activation: quick_gelu, norm: pre, ln_eps: 1.0e-5}}
      text: {vocab_size: 117, max_positions: 48, type_vocab_size: 1, pad_token_id: 0, position_ids: absolute,
        max_text_len: 40, encoder: {width: 32, layers: 2, heads: 2, mlp_dim: 64, activation: gelu, norm: post,
        ln_eps: 1.0e-5, hidden_dropout: 0.1, attention_dropout: 0.1}}
      fusion: {width: 32, layers: 1, heads: 2, mlp_dim: 64, activation: gelu, ln_eps: 1.0e-12, hidden_dropout: 0.1,
        attention_dropout: 0.1, modality_types: 2}
      mim: {layer: -1, mask_ratio: 0.75, norm_pix_loss: true,
        decoder: {width: 16, layers: 1, heads: 2, mlp_dim: 32, activation: quick_gelu, norm: pre, ln_eps: 1.0e-5}}
      mlm: {activation: gelu, ln_eps: 1.0e-12}
      itm: {classes: 2}
      init: {std: 0.02, seed: 3}
      """;

  @BeforeAll
  static void writeModel() throws IOException {
    model = dir.resolve("micro.yaml");
    Files.writeString(model, MODEL);
  }

  static Path runConfig(String name, int steps, String extra) throws IOException {
    Path f = dir.resolve(name + ".yaml");
    Files.writeString(f, "name: " + name + "\nmodel: " + model + "\n"
        + "data: {pipeline: data-pipelines/synthetic.yaml, split: train, workers: 2}\n"
        + "train: {steps: " + steps + ", batch_size: 4, lr: 1.0e-3, warmup: 0.25, seed: 5, checkpoint_every: 2, keep_checkpoints: 5}\n"
        + extra);
    return f;
  }

  static PretrainRun.Result run(Path cfg, Path out, boolean resume, List<TrainingListener> extra) {
    return PretrainRun.run(RunConfig.load(cfg), cfg, out, null, resume, extra, new PrintStream(new ByteArrayOutputStream()));
  }

  static List<ObjectNode> metrics(Path runDir) throws IOException {
    return MetricsJsonl.read(runDir.resolve(MetricsJsonl.FILE));
  }

  @Test
  void resumedRunReproducesTheUninterruptedOne() throws IOException {
    Path cfg = runConfig("resume", 4, "mask: {source: student}\n");
    Path straight = dir.resolve("straight");
    run(cfg, straight, false, List.of());

    Path killed = dir.resolve("killed");
    TrainingListener kill = new TrainingListener() {
      @Override
      public void onStep(StepMetrics m) {
        if (m.step() == 2) throw new IllegalStateException("simulated kill after step 2");
      }
    };
    assertThrows(IllegalStateException.class, () -> run(cfg, killed, false, List.of(kill)));
    assertEquals(1, new Checkpoints(killed, 5).list().size(), "the checkpoint after step 2 (steps 0-1) exists");
    run(cfg, killed, true, List.of());

    List<ObjectNode> a = metrics(straight), b = metrics(killed);
    assertEquals(4, a.size());
    assertEquals(4, b.size(), "metrics.jsonl holds one history: steps 0, 1 from before the kill, 2, 3 after");
    for (int s = 0; s < 4; s++) {
      for (String k : List.of("loss_mlm", "loss_mim", "loss_itm", "loss_total", "mask_r", "lr")) {
        assertEquals(a.get(s).get(k).asDouble(), b.get(s).get(k).asDouble(), 0.0, "step " + s + " " + k);
      }
    }
  }

  @Test
  void nonFiniteLossStopsTheRunAndLeavesTheLastCheckpointUntouched() throws IOException {
    Path cfg = runConfig("nan", 6, "");
    Path out = dir.resolve("nan-run");
    // A numeric blow-up before step 2: a weight turns NaN, so every loss term of step 2 is NaN.
    TrainingListener blowUp = new TrainingListener() {
      Map<String, INDArray> weights;

      @Override
      public void onParameters(Map<String, INDArray> parameters) {
        weights = parameters;
      }

      @Override
      public void onStepStart(int step) {
        if (step == 2) weights.get("language_encoder.embeddings.LayerNorm.weight").putScalar(0, Float.NaN);
      }
    };
    TrainingDivergedException e = assertThrows(TrainingDivergedException.class, () -> run(cfg, out, false, List.of(blowUp)));
    assertEquals(2, e.step());
    assertEquals("loss_mlm", e.term(), e.getMessage());
    assertTrue(e.getMessage().contains("step-00000002"), "names the last good checkpoint: " + e.getMessage());
    Checkpoints ck = new Checkpoints(out, 5);
    assertEquals(1, ck.list().size());
    Path last = ck.list().get(0);
    assertEquals(2, Checkpoints.readState(last).nextStep());
    // The checkpoint still loads, and its weights are finite (written before the blow-up).
    try (var r = org.m3ae.weights.SafetensorsReader.open(last.resolve(Checkpoints.MODEL))) {
      for (String k : r.keys()) for (float f : r.readFloats(k)) assertTrue(Float.isFinite(f), k);
    }
    assertTrue(!Files.exists(out.resolve("model.safetensors")), "no final weights after a failed run");
  }

  @Test
  void distillationFromATeacherCheckpointLowersTheKdLossOnAFixedDataStream() throws IOException {
    Path tcfg = runConfig("teacher", 2, "");
    Path teacherDir = dir.resolve("teacher-run");
    PretrainRun.Result t = run(tcfg, teacherDir, false, List.of());
    assertTrue(Files.exists(t.weights()));
    assertTrue(t.sdz() != null && Files.exists(t.sdz()), "a small model's inference graph is saved as .sdz");

    // The student is the same micro model but initialised at random: KD has work to do.
    Path scfg = runConfig("student", 12, "teacher: {model: " + model + ", weights: " + t.weights() + "}\n"
        + "objectives: {mlm: 0, mim: 0, itm: 0, hid: 1, attn: 1}\nmask: {source: both}\n");
    Path out = dir.resolve("student-run");
    run(scfg, out, false, List.of());
    List<ObjectNode> m = metrics(out);
    double first = m.get(0).get("loss_hid").asDouble() + m.get(0).get("loss_attn").asDouble();
    double last = m.get(m.size() - 1).get("loss_hid").asDouble() + m.get(m.size() - 1).get("loss_attn").asDouble();
    assertTrue(last < 0.7 * first, "KD loss should fall: " + first + " → " + last);
    assertTrue(m.get(0).get("mask_r").asDouble() > m.get(m.size() - 1).get("mask_r").asDouble(), "r decreases");
  }
}
