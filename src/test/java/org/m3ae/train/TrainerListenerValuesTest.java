package org.m3ae.train;

import org.m3ae.masking.MaskSource;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.m3ae.data.BadRecordPolicy;
import org.m3ae.data.config.PipelineLoader;
import org.m3ae.data.pipeline.Batch;
import org.m3ae.data.pipeline.BatchOptions;
import org.m3ae.data.pipeline.DataPipeline;
import org.m3ae.distill.DistillTask;
import org.m3ae.distill.PretrainGraph;
import org.m3ae.model.ModelConfig;
import org.m3ae.model.ModelConfigLoader;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The values listeners receive are the real losses: recomputed independently with {@code sd.output} on the same
 * feed and the weights as they were before the step's update (DL4J's own listener {@code Loss} is always 0 in M2.1).
 * Also checks that the update changed the weights and followed the learning-rate schedule.
 */
class TrainerListenerValuesTest {
  @TempDir Path dir;

  @Test
  void loggedLossesEqualARecomputationAndTheScheduleIsApplied() throws IOException {
    ModelConfig cfg = ModelConfigLoader.parse(org.m3ae.distill.PretrainRunTestModel.YAML.getBytes(), "micro");
    PretrainGraph graph = new PretrainGraph(cfg, null, null,
        Map.of("mlm", 1.0, "mim", 1.0, "itm", 1.0, "hid", 1.0, "attn", 1.0), true);
    DistillTask inner = new DistillTask(graph, null, RunConfig.Mask.of(MaskSource.RANDOM), 3, 1, true);
    Map<Integer, Map<String, INDArray>> feeds = new HashMap<>();
    TrainTask recording = new TrainTask() {
      public SameDiff sd() { return inner.sd(); }
      public List<String> trainable() { return inner.trainable(); }
      public List<String> lossKeys() { return inner.lossKeys(); }
      public List<GradientGraph> gradientGraphs() { return inner.gradientGraphs(); }
      public Map<String, INDArray> weightGradients(Map<String, INDArray> g, Map<String, INDArray> f) {
        return inner.weightGradients(g, f);
      }
      public String lossVariable(String k) { return inner.lossVariable(k); }
      public Map<String, INDArray> feed(Batch b, int step, int micro) {
        Map<String, INDArray> f = inner.feed(b, step, micro);
        feeds.put(step, f);
        if (step == 1) sleep(FEED_DELAY_MS); // before the update: counted in step_s, not in update_s
        return f;
      }
    };
    SameDiff sd = graph.sd();
    Map<String, INDArray> before = new HashMap<>();
    List<StepMetrics> seen = new ArrayList<>();
    List<Map<String, INDArray>> handedOut = new ArrayList<>();
    TrainingListener check = new TrainingListener() {
      @Override
      public void onParameters(Map<String, INDArray> parameters) {
        handedOut.add(parameters);
        // the live weights: the very arrays the graph computes with, every trainable one
        assertEquals(Set.copyOf(graph.trainable()), parameters.keySet());
        for (String n : graph.trainable()) assertSame(sd.getVariable(n).getArr(), parameters.get(n), n);
      }

      @Override
      public void onStepStart(int step) {
        before.clear();
        for (String n : graph.trainable()) before.put(n, sd.getVariable(n).getArr().dup());
      }

      @Override
      public void onStep(StepMetrics m) {
        seen.add(m);
        Map<String, INDArray> after = new HashMap<>();
        for (String n : graph.trainable()) {
          after.put(n, sd.getVariable(n).getArr().dup());
          sd.getVariable(n).getArr().assign(before.get(n));
        }
        Map<String, INDArray> out = sd.output(GradientGraph.placeholdersOf(sd, feeds.get(m.step())), graph.lossVariables().toArray(new String[0]));
        for (String k : graph.lossKeys()) {
          assertEquals(out.get(PretrainGraph.LOSSES.get(k)).getDouble(0), m.get(k), 1e-6 * Math.max(1, Math.abs(m.get(k))),
              "step " + m.step() + " " + k);
        }
        boolean changed = false;
        for (String n : graph.trainable()) {
          changed |= !after.get(n).equalsWithEps(before.get(n), 0);
          sd.getVariable(n).getArr().assign(after.get(n));
        }
        assertTrue(changed, "the update changed the weights");
      }
    };
    try (DataPipeline data = DataPipeline.open(PipelineLoader.load(Path.of("data-pipelines/synthetic.yaml"))
        .withImageSize(cfg.vision().imageSize()), BadRecordPolicy.SKIP);
        BatchStream stream = new BatchStream(data, "train",
            BatchOptions.pretraining(), 4, 7, 1)) {
      Trainer.Settings s = new Trainer.Settings(3, 1, LrSchedule.of(1e-3, 0.34, 3),
          Map.of(LrGroup.BACKBONE, 1.0, LrGroup.FUSION, 5.0, LrGroup.HEADS, 5.0), 1.0, 0);
      new Trainer(recording, stream::next, s, new AdamW(new AdamW.Settings(0.9, 0.98, 1e-8, 0.01)), List.of(check))
          .run(Files.createDirectories(dir.resolve("run")), 0);
    }
    assertEquals(3, seen.size());
    assertEquals(1, handedOut.size(), "the weights are handed out once, before the first step");
    // warm-up of round(0.34·3) = 1 step, then linear decay to 0: 1e-3, 1e-3·2/2, 1e-3·1/2.
    assertEquals(1e-3, seen.get(0).get("lr"), 1e-15);
    assertEquals(1e-3, seen.get(1).get("lr"), 1e-15);
    assertEquals(5e-4, seen.get(2).get("lr"), 1e-15);
    assertEquals(5 * 5e-4, seen.get(2).get("lr_fusion"), 1e-15);
    // The timers measure what their names say: a delay while the step's feed is built lands in step_s and not in
    // update_s (the clip and AdamW part that follows the gradients).
    StepMetrics slow = seen.get(1);
    double delay = FEED_DELAY_MS / 1e3;
    assertTrue(slow.get("update_s") > 0 && slow.get("update_s") < delay, "update_s excludes the feed: " + slow);
    assertTrue(slow.get("step_s") >= delay + slow.get("update_s"), "step_s includes the feed and the update: " + slow);
    assertTrue(seen.get(2).get("step_s") < slow.get("step_s") - delay / 2, "only step 1 was delayed: " + seen.get(2) + " vs " + slow);
  }

  /** Long against a tiny step's spread on a loaded 2-core machine (steps of 0.3–2.4 s seen), so the checks stay behavioural. */
  static final long FEED_DELAY_MS = 2500;

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
