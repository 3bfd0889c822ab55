package org.m3ae.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.m3ae.masking.MaskSource;
import org.m3ae.data.BadRecordPolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.m3ae.masking.ItmNegatives;
import org.m3ae.masking.MlmMasking;
import org.m3ae.model.ConfigException;
import org.m3ae.tasks.TaskConfig;

/**
 * Pins the effective values of every shipped run and task config ({@code configs/runs/}) and of configs that leave
 * everything out, as they were when the defaults still sat in {@code xxxOr()} accessors; and that a bad optimisation
 * key is named by file, line and key. The expected values are read off the YAML files and the old accessors by hand.
 */
class ShippedConfigsTest {
  @TempDir Path dir;

  /** A pre-training config's effective values. */
  record Run(double backbone, double fusion, double heads, double clip, NoDecay noDecay, int accumulate, MlmMasking mlm,
      int checkpointEvery, int keep, String maskSource, boolean kd) {}

  /** A fine-tuning config's effective values. */
  record Task(double backbone, double fusion, double heads, double clip, NoDecay noDecay, int accumulate, int negatives,
      boolean frozen, int evalBatch, int rerankK, String testSplit) {}

  private static final NoDecay M3AE = NoDecay.M3AE, NG = NoDecay.NORMS_AND_GAINS;
  private static final MlmMasking WW = MlmMasking.WHOLE_WORD, PT = MlmMasking.PER_TOKEN;

  private static final Map<String, Run> RUNS = new TreeMap<>(Map.ofEntries(
      Map.entry("distill-base.yaml", new Run(1, 5, 5, 0, M3AE, 2, WW, 1000, 3, "both", true)),
      Map.entry("distill-small.yaml", new Run(1, 5, 5, 0, M3AE, 2, WW, 1000, 3, "both", true)),
      // names neither no_decay nor mlm_masking: M3AE's rules
      Map.entry("distill-synth-mmkd.yaml", new Run(1, 1, 1, 1, M3AE, 1, WW, 100, 2, "both", true)),
      Map.entry("distill-synth.yaml", new Run(1, 1, 1, 1, NG, 1, PT, 100, 2, "both", true)),
      Map.entry("distill-tiny.yaml", new Run(1, 5, 5, 1, NG, 1, PT, 50, 2, "both", true)),
      Map.entry("medpix-bge-distill.yaml", new Run(1, 5, 5, 1, NG, 1, PT, 50, 1, "both", true)),
      Map.entry("medpix-bge-lit.yaml", new Run(1, 1, 1, 1, NG, 1, WW, 100, 8, "random", false)),
      Map.entry("medpix-bge-minilm-lit.yaml", new Run(1, 1, 1, 1, NG, 1, WW, 100, 8, "random", false)),
      Map.entry("medpix-bge-teacher.yaml", new Run(1, 1, 1, 1, NG, 1, PT, 40, 1, "random", false)),
      Map.entry("medpix-distill.yaml", new Run(1, 5, 5, 1, NG, 1, PT, 40, 1, "both", true)),
      Map.entry("medpix-student-nokd.yaml", new Run(1, 5, 5, 1, NG, 1, PT, 40, 1, "random", false)),
      Map.entry("medpix-teacher.yaml", new Run(1, 5, 5, 1, NG, 1, PT, 40, 1, "random", false)),
      Map.entry("student-synth-nokd.yaml", new Run(1, 1, 1, 1, NG, 1, PT, 100, 2, "random", false)),
      Map.entry("teacher-synth.yaml", new Run(1, 1, 1, 1, NG, 1, PT, 100, 2, "random", false)),
      Map.entry("teacher-tiny.yaml", new Run(1, 5, 5, 1, NG, 1, PT, 50, 2, "random", false))));

  private static final Map<String, Task> TASKS = new TreeMap<>(Map.ofEntries(
      Map.entry("melinda-m3ae.yaml", new Task(1, 5, 10, 0, M3AE, 1, 15, false, 16, 0, "test")),
      Map.entry("retrieval-medpix.yaml", new Task(1, 5, 5, 1, NG, 1, 7, true, 64, 10, "dev")),
      Map.entry("retrieval-medpix-bge.yaml", new Task(1, 5, 5, 1, NG, 1, 7, true, 64, 10, "dev")),
      Map.entry("roco-m3ae-288.yaml", new Task(1, 5, 5, 0, M3AE, 16, 15, false, 16, 0, "test")),
      Map.entry("roco-m3ae.yaml", new Task(1, 5, 5, 0, M3AE, 16, 15, false, 16, 0, "test")),
      Map.entry("slake-m3ae.yaml", new Task(1, 5, 50, 0, M3AE, 2, 15, false, 16, 0, "test")),
      Map.entry("vqa-med-2019-m3ae.yaml", new Task(1, 5, 50, 0, M3AE, 2, 15, false, 16, 0, "test")),
      Map.entry("vqa-rad-m3ae.yaml", new Task(1, 5, 50, 0, M3AE, 4, 15, false, 16, 0, "test")),
      Map.entry("vqa-rad-bge.yaml", new Task(1, 5, 50, 1, NG, 1, 15, true, 64, 0, "test")),
      Map.entry("vqa-rad-bge-teacher.yaml", new Task(1, 5, 50, 1, NG, 1, 15, true, 64, 0, "test")),
      Map.entry("vqa-rad-student.yaml", new Task(1, 5, 50, 1, NG, 1, 15, true, 64, 0, "test")),
      Map.entry("vqa-rad-teacher.yaml", new Task(1, 5, 50, 1, NG, 1, 15, true, 64, 0, "test")),
      Map.entry("vqa-synth-demo.yaml", new Task(0.2, 1, 1, 1, NG, 1, 15, false, 64, 0, "test")),
      Map.entry("vqa-synthetic-tiny.yaml", new Task(1, 5, 10, 1, NG, 1, 15, false, 64, 0, "test"))));

  @Test
  void everyShippedConfigKeepsItsEffectiveValues() throws IOException {
    List<Path> files;
    try (Stream<Path> s = Files.list(Path.of("configs/runs"))) {
      files = s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
    }
    assertEquals(RUNS.size() + TASKS.size(), files.size(), "a new config in configs/runs needs a row here: " + files);
    for (Path f : files) {
      String name = f.getFileName().toString();
      // a task config names its task; a run config never does
      boolean task = Files.readAllLines(f).stream().anyMatch(l -> l.startsWith("task:"));
      if (task) {
        Task want = TASKS.get(name);
        assertTrue(want != null, name + " is not a task config here");
        TaskConfig tc = TaskConfig.load(f);
        Optimization o = tc.train().optimization();
        assertEquals(want, new Task(o.multiplier(LrGroup.BACKBONE), o.multiplier(LrGroup.FUSION), o.multiplier(LrGroup.HEADS),
            o.clipNorm(), o.noDecay(), o.accumulate(), tc.train().negatives(), tc.train().freezeEmbeddings(),
            tc.eval().batchSize(), tc.eval().rerankK(), tc.data().testSplit()), name);
        checkShared(o, name);
        assertEquals(256, tc.eval().chunk(), name);
        assertEquals(0.1, tc.data().valFraction(), name);
      } else {
        Run want = RUNS.get(name);
        assertTrue(want != null, name + " is not a run config here");
        RunConfig rc = RunConfig.load(f);
        Optimization o = rc.train().optimization();
        assertEquals(want, new Run(o.multiplier(LrGroup.BACKBONE), o.multiplier(LrGroup.FUSION), o.multiplier(LrGroup.HEADS),
            o.clipNorm(), o.noDecay(), o.accumulate(), rc.train().mlmMasking(), rc.train().checkpointEvery(),
            rc.train().keepCheckpoints(), rc.mask().source().key(), rc.kdEnabled()), name);
        checkShared(o, name);
        // the demo's three runs collect every 25 steps (two run at once in one JVM, docs/training.md); the rest every step
        assertEquals(Set.of("teacher-synth.yaml", "distill-synth.yaml", "student-synth-nokd.yaml").contains(name) ? 25 : 1,
            rc.train().gcEvery(), name);
        assertEquals(Set.of("teacher-synth.yaml", "distill-synth.yaml", "student-synth-nokd.yaml").contains(name)
            ? ItmNegatives.HARD : ItmNegatives.RANDOM, rc.train().itmNegatives(), name);
        assertEquals(16, rc.train().itmCandidates(), name);
        assertEquals(RunConfig.Backward.PER_PASS, rc.train().backward(), name);
        assertEquals(List.of(0.95, 0.30, 0.75), List.of(rc.mask().rStart(), rc.mask().rEnd(), rc.mask().ratio()), name);
      }
    }
  }

  /** What no shipped config changes: AdamW's betas and ε, weight decay, seed, executor. */
  private static void checkShared(Optimization o, String name) {
    assertEquals(1e-8, o.eps(), 0.0, name);
    assertEquals(List.of(0.9, 0.98), o.betas(), name);
    assertEquals(0.01, o.weightDecay(), 0.0, name);
    assertEquals(0L, o.seed(), name);
    assertEquals(Executor.PLAN, o.executor(), name);
  }

  @Test
  void aRunConfigThatLeavesEverythingOutGetsTheDefaults() throws IOException {
    RunConfig rc = RunConfig.load(write("run.yaml", "name: r\nmodel: m.yaml\nteacher: {model: t.yaml, weights: w}\n"
        + "data: {pipeline: p.yaml}\ntrain: {steps: 25, batch_size: 2, lr: 1.0e-5}\n"));
    Optimization o = rc.train().optimization();
    // pre-training without lr_multipliers: M3AE's pre-training ratios, fusion and heads ×5
    assertEquals(Map.of(LrGroup.BACKBONE, 1.0, LrGroup.VISION, 1.0, LrGroup.TEXT, 1.0, LrGroup.FUSION, 5.0, LrGroup.HEADS, 5.0), o.lrMultipliers());
    assertEquals(1e-8, o.eps(), 0.0);
    assertEquals(List.of(0.9, 0.98), o.betas());
    assertEquals(0.01, o.weightDecay(), 0.0);
    assertEquals(0.1, o.warmup(), 0.0);
    assertEquals(0.0, o.clipNorm(), 0.0);
    assertEquals(NoDecay.M3AE, o.noDecay());
    assertEquals(1, o.accumulate());
    assertEquals(0L, o.seed());
    assertTrue(o.dropout());
    assertEquals(Executor.PLAN, o.executor());
    assertEquals(MlmMasking.WHOLE_WORD, rc.train().mlmMasking());
    assertEquals(2, rc.train().checkpointEvery(), "a tenth of 25 steps");
    assertEquals(3, rc.train().keepCheckpoints());
    assertEquals(1, rc.train().gcEvery());
    assertEquals(RunConfig.Backward.PER_PASS, rc.train().backward());
    assertEquals("train", rc.data().split());
    assertEquals(2, rc.data().workers());
    assertEquals(BadRecordPolicy.SKIP, rc.data().onBadRecord());
    assertNull(rc.data().root());
    assertEquals(MaskSource.BOTH, rc.mask().source(), "with a teacher");
    assertEquals(List.of(0.95, 0.30, 0.75), List.of(rc.mask().rStart(), rc.mask().rEnd(), rc.mask().ratio()));
    assertTrue(rc.kdEnabled());
    for (LossTerm t : LossTerm.values()) {
      assertEquals(t == LossTerm.MLM_KD || t == LossTerm.ITM_KD ? 0.0 : 1.0, rc.weight(t), t.key());
    }

    rc = RunConfig.load(write("run.yaml", "name: r\nmodel: m.yaml\ndata: {pipeline: p.yaml}\n"
        + "train: {steps: 5, batch_size: 2, lr: 1.0e-5, lr_multipliers: {heads: 3}}\n"));
    // a group left out of a given map trains at ×1, not at the ×5 of a left-out map
    assertEquals(Map.of(LrGroup.BACKBONE, 1.0, LrGroup.VISION, 1.0, LrGroup.TEXT, 1.0, LrGroup.FUSION, 1.0, LrGroup.HEADS, 3.0),
        rc.train().optimization().lrMultipliers());
    // the towers take backbone's multiplier unless named
    rc = RunConfig.load(write("run.yaml", "name: r\nmodel: m.yaml\ndata: {pipeline: p.yaml}\n"
        + "train: {steps: 5, batch_size: 2, lr: 1.0e-5, lr_multipliers: {backbone: 2, vision: 10}}\n"));
    assertEquals(Map.of(LrGroup.BACKBONE, 2.0, LrGroup.VISION, 10.0, LrGroup.TEXT, 2.0, LrGroup.FUSION, 1.0, LrGroup.HEADS, 1.0),
        rc.train().optimization().lrMultipliers());
    assertEquals(LrGroup.VISION, LrGroup.of("vision_encoder.visual.transformer.resblocks.0.attn.in_proj_weight"));
    assertEquals(LrGroup.TEXT, LrGroup.of("language_encoder.encoder.layer.3.output.dense.weight"));
    assertEquals(LrGroup.FUSION, LrGroup.of("multi_modal_vision_layers.0.attention.self.query.weight"));
    assertEquals(LrGroup.HEADS, LrGroup.of("mim_head.decoder_embed.weight"));
    assertEquals(1, rc.train().checkpointEvery(), "at least every step");
    assertEquals(MaskSource.RANDOM, rc.mask().source(), "without a teacher");
    assertTrue(!rc.kdEnabled());
  }

  @Test
  void aTaskConfigThatLeavesEverythingOutGetsTheDefaults() throws IOException {
    TaskConfig tc = TaskConfig.load(write("task.yaml", "name: t\ntask: vqa\nmodel: m.yaml\ndata: {pipeline: p.yaml}\n"
        + "train: {epochs: 1, batch_size: 2, lr: 1.0e-5}\n"));
    Optimization o = tc.train().optimization();
    // fine-tuning without lr_multipliers: every group ×1
    assertEquals(Map.of(LrGroup.BACKBONE, 1.0, LrGroup.VISION, 1.0, LrGroup.TEXT, 1.0, LrGroup.FUSION, 1.0, LrGroup.HEADS, 1.0), o.lrMultipliers());
    assertEquals(1e-8, o.eps(), 0.0, "the ε FinetuneRun wrote as a literal");
    assertEquals(List.of(0.9, 0.98), o.betas());
    assertEquals(0.01, o.weightDecay(), 0.0);
    assertEquals(0.1, o.warmup(), 0.0);
    assertEquals(0.0, o.clipNorm(), 0.0);
    assertEquals(NoDecay.M3AE, o.noDecay());
    assertEquals(1, o.accumulate());
    assertEquals(0L, o.seed());
    assertTrue(o.dropout());
    assertEquals(Executor.PLAN, o.executor());
    assertEquals(15, tc.train().negatives());
    assertTrue(!tc.train().freezeEmbeddings());
    assertNull(tc.train().maxSteps());
    assertNull(tc.train().validateEvery());
    assertEquals("train", tc.data().trainSplit());
    assertEquals("test", tc.data().testSplit());
    assertNull(tc.data().valSplit());
    assertEquals(0.1, tc.data().valFraction());
    assertEquals(0L, tc.data().valSeed());
    assertEquals(2, tc.data().workers());
    assertEquals(BadRecordPolicy.SKIP, tc.data().onBadRecord());
    assertEquals(64, tc.eval().batchSize());
    assertEquals(256, tc.eval().chunk());
    assertEquals(0, tc.eval().rerankK());

    tc = TaskConfig.load(write("task.yaml", "name: t\ntask: vqa\nmodel: m.yaml\ndata: {pipeline: p.yaml}\n"
        + "train: {epochs: 1, batch_size: 2, lr: 1.0e-5, lr_multipliers: {heads: 3}, eps: 1.0e-6}\n"));
    assertEquals(Map.of(LrGroup.BACKBONE, 1.0, LrGroup.VISION, 1.0, LrGroup.TEXT, 1.0, LrGroup.FUSION, 1.0, LrGroup.HEADS, 3.0),
        tc.train().optimization().lrMultipliers());
    assertEquals(1e-6, tc.train().optimization().eps(), 0.0, "fine-tuning reads train.eps as pre-training does");
  }

  @Test
  void anUnknownLearningRateGroupIsNamedByFileLineAndKey() throws IOException {
    Path run = write("bad-run.yaml", "name: r\nmodel: m.yaml\ndata: {pipeline: p.yaml}\n"
        + "train:\n  steps: 5\n  batch_size: 2\n  lr: 1.0e-5\n  lr_multipliers: {backbone: 1, head: 5}\n");
    ConfigException e = assertThrows(ConfigException.class, () -> RunConfig.load(run));
    assertTrue(e.getMessage().startsWith(run + ":8:"), e.getMessage());
    assertTrue(e.getMessage().contains("unknown key 'train.lr_multipliers.head' (known here: backbone, fusion, heads, text, vision)"), e.getMessage());

    Path task = write("bad-task.yaml", "name: t\ntask: vqa\nmodel: m.yaml\ndata: {pipeline: p.yaml}\n"
        + "train:\n  epochs: 1\n  batch_size: 2\n  lr: 1.0e-5\n  lr_multipliers:\n    fusoin: 5\n");
    e = assertThrows(ConfigException.class, () -> TaskConfig.load(task));
    assertTrue(e.getMessage().startsWith(task + ":10:"), e.getMessage());
    assertTrue(e.getMessage().contains("unknown key 'train.lr_multipliers.fusoin'"), e.getMessage());
  }

  @Test
  void aWrongTypedKeyWithADefaultIsNamedByFileLineAndKey() throws IOException {
    Path run = write("bad-run.yaml", "name: r\nmodel: m.yaml\ndata: {pipeline: p.yaml}\n"
        + "train:\n  steps: 5\n  batch_size: 2\n  lr: 1.0e-5\n  eps: tiny\n");
    ConfigException e = assertThrows(ConfigException.class, () -> RunConfig.load(run));
    assertTrue(e.getMessage().startsWith(run + ":8:"), e.getMessage());
    assertTrue(e.getMessage().contains("bad value for key 'train.eps'"), e.getMessage());

    Path run2 = write("bad-run2.yaml", "name: r\nmodel: m.yaml\ndata:\n  pipeline: p.yaml\n  workers: two\n"
        + "train: {steps: 5, batch_size: 2, lr: 1.0e-5}\n");
    e = assertThrows(ConfigException.class, () -> RunConfig.load(run2));
    assertTrue(e.getMessage().startsWith(run2 + ":5:"), e.getMessage());
    assertTrue(e.getMessage().contains("bad value for key 'data.workers'"), e.getMessage());

    Path task = write("bad-task.yaml", "name: t\ntask: vqa\nmodel: m.yaml\ndata: {pipeline: p.yaml}\n"
        + "train:\n  epochs: 1\n  batch_size: 2\n  lr: 1.0e-5\n  warmup: [0.1]\n");
    e = assertThrows(ConfigException.class, () -> TaskConfig.load(task));
    assertTrue(e.getMessage().startsWith(task + ":9:"), e.getMessage());
    assertTrue(e.getMessage().contains("bad value for key 'train.warmup'"), e.getMessage());

    Path task2 = write("bad-task2.yaml", "name: t\ntask: vqa\nmodel: m.yaml\ndata: {pipeline: p.yaml}\n"
        + "train: {epochs: 1, batch_size: 2, lr: 1.0e-5, no_decay: all}\n");
    e = assertThrows(ConfigException.class, () -> TaskConfig.load(task2));
    assertTrue(e.getMessage().startsWith(task2 + ":5:"), e.getMessage());
    assertTrue(e.getMessage().contains("'train.no_decay'"), e.getMessage());
  }

  @Test
  void aValueOutsideAnEnumIsNamedByFileLineKeyAndTheAcceptedValues() throws IOException {
    Path run = write("bad-mask.yaml", "name: r\nmodel: m.yaml\ndata: {pipeline: p.yaml}\n"
        + "train: {steps: 5, batch_size: 2, lr: 1.0e-5}\nmask:\n  source: teachers\n");
    ConfigException e = assertThrows(ConfigException.class, () -> RunConfig.load(run));
    assertTrue(e.getMessage().startsWith(run + ":6:"), e.getMessage());
    assertTrue(e.getMessage().contains("bad value for key 'mask.source'"), e.getMessage());
    for (String v : List.of("random", "student", "teacher", "both")) assertTrue(e.getMessage().contains(v), e.getMessage());

    Path run2 = write("bad-init.yaml", "name: r\nmodel: m.yaml\nstudent_init: Teacher\ndata: {pipeline: p.yaml}\n"
        + "train: {steps: 5, batch_size: 2, lr: 1.0e-5}\n");
    e = assertThrows(ConfigException.class, () -> RunConfig.load(run2));
    assertTrue(e.getMessage().startsWith(run2 + ":3:"), e.getMessage());
    assertTrue(e.getMessage().contains("bad value for key 'student_init'"), e.getMessage());

    Path task = write("bad-policy.yaml", "name: t\ntask: vqa\nmodel: m.yaml\ndata:\n  pipeline: p.yaml\n"
        + "  on_bad_record: ignore\ntrain: {epochs: 1, batch_size: 2, lr: 1.0e-5}\n");
    e = assertThrows(ConfigException.class, () -> TaskConfig.load(task));
    assertTrue(e.getMessage().startsWith(task + ":6:"), e.getMessage());
    assertTrue(e.getMessage().contains("bad value for key 'data.on_bad_record'"), e.getMessage());
    assertTrue(e.getMessage().contains("skip") && e.getMessage().contains("fail"), e.getMessage());

    // a teacher-driven mask without a teacher is a cross-key rule, checked after binding
    Path run3 = write("mask-no-teacher.yaml", "name: r\nmodel: m.yaml\ndata: {pipeline: p.yaml}\n"
        + "train: {steps: 5, batch_size: 2, lr: 1.0e-5}\nmask: {source: both}\n");
    e = assertThrows(ConfigException.class, () -> RunConfig.load(run3));
    assertTrue(e.getMessage().contains("key 'mask.source': 'both' needs a teacher"), e.getMessage());
  }

  private Path write(String name, String yaml) throws IOException {
    return Files.writeString(dir.resolve(name), yaml);
  }
}
