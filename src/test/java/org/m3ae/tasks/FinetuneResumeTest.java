package org.m3ae.tasks;

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
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.m3ae.train.Checkpoints;
import org.m3ae.train.MetricsJsonl;
import org.m3ae.train.StepMetrics;
import org.m3ae.train.TrainingListener;
import org.m3ae.weights.SafetensorsReader;

/**
 * Fine-tuning resumes exactly: a run killed between two checkpoints and resumed with {@code resume} writes the same
 * step losses, the same validation scores, the same selected and last weights, bit for bit, as the run that was never
 * interrupted (tiny student, embedded synthetic VQA, dropout on). Trainable and frozen text embeddings both.
 */
class FinetuneResumeTest {
  @TempDir Path dir;

  TaskConfig config(boolean frozen) {
    return Configs.task(dir.resolve("vqa-resume.yaml"), """
        name: vqa-resume
        task: vqa
        model: %s
        init: none
        data: {pipeline: %s, workers: 2, on_bad_record: skip, val_split: val}
        train: {epochs: 1, batch_size: 8, lr: 5.0e-4, lr_multipliers: {heads: 10}, weight_decay: 0.01, warmup: 0.2,
          clip_norm: 1.0, seed: 3, dropout: %s, max_steps: 4, validate_every: 2, freeze_embeddings: %s}
        eval: {batch_size: 64}
        """.formatted(DemoFinetune.STUDENT_MODEL, DemoFinetune.PIPELINE, !frozen, frozen));
  }

  static FinetuneRun.Result run(TaskConfig tc, Path runDir, boolean resume, List<TrainingListener> extra) {
    return FinetuneRun.run(tc, null, null, HeadInit.CHECKPOINT, runDir, null, resume, extra,
        new PrintStream(new ByteArrayOutputStream(), true));
  }

  @ParameterizedTest(name = "frozen embeddings {0}")
  @ValueSource(booleans = {false, true})
  void killedAndResumedRunEqualsTheUninterruptedOne(boolean frozen) throws IOException {
    TaskConfig tc = config(frozen);
    Path straight = dir.resolve("straight");
    FinetuneRun.Result a = run(tc, straight, false, List.of());

    Path killed = dir.resolve("killed");
    TrainingListener kill = new TrainingListener() {
      @Override
      public void onStep(StepMetrics m) {
        // step index 2 comes after the checkpoint of steps 0-1 and before the next: steps 2 and 3 and the validation
        // after step 3 are replayed (with the selection restored: every validation here scores alike, so a lost
        // best would move the selected step)
        if (m.step() == 2) throw new IllegalStateException("simulated kill during step 3");
      }
    };
    // resume with no checkpoint yet starts at step 0
    assertThrows(IllegalStateException.class, () -> run(tc, killed, true, List.of(kill)));
    List<Path> left = new Checkpoints(killed, 5).list();
    assertEquals(1, left.size(), "one checkpoint, after the validation of step 2: " + left);
    assertEquals(2, Checkpoints.readState(left.get(0)).nextStep());
    FinetuneRun.Result b = run(tc, killed, true, List.of());

    assertEquals(a.bestStep(), b.bestStep());
    assertEquals(a.bestVal(), b.bestVal(), 0.0);
    List<ObjectNode> ma = MetricsJsonl.read(straight.resolve(MetricsJsonl.FILE));
    List<ObjectNode> mb = MetricsJsonl.read(killed.resolve(MetricsJsonl.FILE));
    assertEquals(4 + 2, ma.size(), "four steps and two validations");
    assertEquals(ma.size(), mb.size(), "one history: the lines of the killed steps were dropped on resume");
    for (int i = 0; i < ma.size(); i++) {
      ObjectNode x = ma.get(i), y = mb.get(i);
      assertEquals(x.path("event").asText(), y.path("event").asText(), "line " + i);
      assertEquals(x.get("step").asInt(), y.get("step").asInt(), "line " + i);
      for (String k : List.of("loss_total", "lr", "val_overall", "val_best")) {
        if (x.has(k)) assertEquals(x.get(k).asDouble(), y.get(k).asDouble(), 0.0, "line " + i + " " + k);
      }
    }
    for (String f : List.of("model.safetensors", "last.safetensors")) assertSameTensors(straight.resolve(f), killed.resolve(f));

    // resuming a finished run runs nothing and keeps its selection
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    byte[] selected = Files.readAllBytes(killed.resolve("model.safetensors"));
    FinetuneRun.Result c = FinetuneRun.run(tc, null, null, HeadInit.CHECKPOINT, killed, null, true, List.of(), new PrintStream(log, true));
    assertTrue(log.toString().contains("already at step 4 of 4"), log.toString());
    assertEquals(a.bestStep(), c.bestStep());
    assertEquals(a.bestVal(), c.bestVal(), 0.0);
    assertEquals(-1, java.util.Arrays.mismatch(selected, Files.readAllBytes(killed.resolve("model.safetensors"))));
  }

  static void assertSameTensors(Path x, Path y) {
    try (SafetensorsReader a = SafetensorsReader.open(x); SafetensorsReader b = SafetensorsReader.open(y)) {
      assertEquals(a.keys(), b.keys(), x.getFileName().toString());
      for (String k : a.keys()) {
        assertTrue(java.util.Arrays.equals(a.readFloats(k), b.readFloats(k)), x.getFileName() + " " + k + " differs");
      }
    }
  }
}
