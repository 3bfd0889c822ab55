package org.m3ae.ablate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.m3ae.masking.MaskSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.m3ae.model.ConfigException;
import org.m3ae.train.LossTerm;

/** Grids laid out into cells: overrides and seeds reach the run and fine-tuning configs; bad overrides are named. */
class GridPlanTest {
  @TempDir Path dir;

  Path grid(String variants) throws IOException {
    Path g = dir.resolve("grid.yaml");
    Files.writeString(g, """
        name: Test Grid
        shared:
          teacher: {run: configs/runs/teacher-synth.yaml, overrides: {train: {steps: 7}}}
        run: configs/runs/distill-synth.yaml
        overrides: {teacher: {weights: "${shared.teacher}"}, train: {steps: 3}}
        finetune: {config: demo, steps: 4, overrides: {train: {lr: 2.0e-4}}}
        seeds: [0, 5]
        variants:
        """ + variants);
    return g;
  }

  @Test
  void overridesAndSeedsReachEveryCellsConfigs() throws IOException {
    Path g = grid("""
          - {label: KD off, overrides: {objectives: {hid: 0, attn: 0}}}
          - {label: "hidden only", overrides: {objectives.attn: 0, mask: {source: random}}}
        """);
    GridPlan p = GridPlan.of(GridConfig.load(g), g, dir.resolve("out"));
    assertEquals(1, p.shared.size());
    GridPlan.SharedRun t = p.shared.get(0);
    assertEquals(7, t.config().train().steps());
    assertEquals(dir.resolve("out/shared/teacher/pretrain/model.safetensors").normalize(), t.weights());

    assertEquals(4, p.cells.size());
    assertEquals(List.of("kd-off/seed-0", "kd-off/seed-5", "hidden-only/seed-0", "hidden-only/seed-5"),
        p.cells.stream().map(GridPlan.Cell::id).toList());
    for (GridPlan.Cell c : p.cells) {
      var rc = c.run();
      assertEquals(c.seed(), rc.train().optimization().seed());
      assertEquals(3, rc.train().steps());
      assertEquals(t.weights().toString(), rc.teacher().weights());
      assertEquals("configs/models/synth-student.yaml", rc.model());
      assertEquals(0.0, rc.weight(LossTerm.ATTN));
      assertEquals(c.label().equals("KD off") ? 0.0 : 1.0, rc.weight(LossTerm.HID));
      assertEquals(c.label().equals("KD off") ? MaskSource.BOTH : MaskSource.RANDOM, rc.mask().source());
      assertEquals(1.0, rc.weight(LossTerm.MLM));
      var ft = c.finetune();
      assertEquals(c.seed(), ft.train().optimization().seed());
      assertEquals(4, ft.train().maxSteps());
      assertEquals(2.0e-4, ft.train().optimization().lr());
      assertEquals(rc.model(), ft.model());
      assertEquals(c.pretrainDir().resolve("model.safetensors").toString(), ft.init());
      assertTrue(Files.isRegularFile(c.runFile()) && Files.isRegularFile(c.finetuneFile()));
    }
  }

  @Test
  void aTaskConfigFileCanReplaceTheDemosFineTuning() throws IOException {
    Path g = grid("  - {label: only}\n");
    Files.writeString(g, Files.readString(g).replace("finetune: {config: demo, steps: 4, overrides: {train: {lr: 2.0e-4}}}",
        "finetune: {config: configs/runs/vqa-synthetic-tiny.yaml, steps: 3, pipeline: data-pipelines/other.yaml}"));
    GridPlan p = GridPlan.of(GridConfig.load(g), g, dir.resolve("out"));
    var ft = p.cells.get(1).finetune();
    assertEquals(3, ft.train().maxSteps());
    assertEquals(5, ft.train().optimization().seed());
    assertEquals("data-pipelines/other.yaml", ft.data().pipeline());
    assertEquals(5.0e-4, ft.train().optimization().lr(), "the file's own settings stay");
    assertEquals("configs/models/synth-student.yaml", ft.model(), "the cell's model, not the file's");
    assertEquals(p.cells.get(1).pretrainDir().resolve("model.safetensors").toString(), ft.init());
  }

  @Test
  void anUnknownKeyInAVariantNamesTheGridTheVariantAndTheKey() throws IOException {
    Path g = grid("""
          - {label: fine}
          - {label: broken, overrides: {kd: {enabled: true, temperature: 2}}}
        """);
    ConfigException e = assertThrows(ConfigException.class, () -> GridPlan.of(GridConfig.load(g), g, dir.resolve("out")));
    String m = e.getMessage();
    assertTrue(m.startsWith(g + ": variant 'broken', seed 0: "), m);
    assertTrue(m.contains("unknown key 'kd.temperature'"), m);
  }

  @Test
  void aBadFineTuningOverrideIsNamedToo() throws IOException {
    Path g = grid("  - {label: only}\n");
    Files.writeString(g, Files.readString(g).replace("train: {lr: 2.0e-4}", "train: {rate: 2.0e-4}"));
    ConfigException e = assertThrows(ConfigException.class, () -> GridPlan.of(GridConfig.load(g), g, dir.resolve("out")));
    assertTrue(e.getMessage().contains("variant 'only', seed 0 (finetune)") && e.getMessage().contains("train.rate"), e.getMessage());
  }

  @Test
  void gridErrorsNameTheGridFileAndKey() throws IOException {
    Path g = grid("  - {label: a b}\n  - {label: A-B}\n");
    ConfigException e = assertThrows(ConfigException.class, () -> GridConfig.load(g));
    assertTrue(e.getMessage().contains(g.toString()) && e.getMessage().contains("variants[1].label"), e.getMessage());
    Files.writeString(g, Files.readString(g).replace("seeds: [0, 5]", "seedz: [0, 5]"));
    e = assertThrows(ConfigException.class, () -> GridConfig.load(g));
    assertTrue(e.getMessage().contains("unknown key 'seedz'"), e.getMessage());
  }

  @Test
  void theShippedGridsLayOutTheirVariants() {
    Path t6 = Path.of("configs/grids/table6-kd.yaml");
    GridPlan p6 = GridPlan.of(GridConfig.load(t6), t6, dir.resolve("t6"));
    assertEquals(List.of(0L, 1L, 2L), p6.grid.seeds());
    assertEquals(15, p6.cells.size());
    for (GridPlan.Cell c : p6.cells) {
      if (c.label().equals("the teacher itself")) {
        assertEquals(p6.shared.get(0), c.shared(), "the teacher row fine-tunes the shared teacher");
        assertEquals(p6.shared.get(0).weights().toString(), c.finetune().init());
        continue;
      }
      double hid = c.run().weight(LossTerm.HID), attn = c.run().weight(LossTerm.ATTN);
      String expect = hid == 0 && attn == 0 ? "KD off" : attn == 0 ? "hidden only" : hid == 0 ? "attention only" : "hidden + attention";
      assertEquals(expect, c.label());
      assertEquals(p6.shared.get(0).weights().toString(), c.run().teacher().weights());
    }
    Path t7 = Path.of("configs/grids/table7-mask.yaml");
    GridPlan p7 = GridPlan.of(GridConfig.load(t7), t7, dir.resolve("t7"));
    assertEquals(List.of("random", "teacher", "student", "both"),
        p7.cells.stream().filter(c -> c.seed() == 0 && c.shared() == null).map(c -> c.run().mask().source().key()).toList());
    assertEquals(3, p7.cells.stream().filter(c -> c.shared() != null).count());

    // issue 16 §3: the KD terms and the feature terms switch by variant; every cell fine-tunes VQA-RAD and retrieval
    Path mm = Path.of("configs/grids/medpix-mmkd.yaml");
    GridPlan pm = GridPlan.of(GridConfig.load(mm), mm, dir.resolve("mm"));
    assertEquals(12, pm.cells.size());
    for (GridPlan.Cell c : pm.cells) {
      if (c.shared() != null) {
        assertEquals("configs/models/medpix-bge-teacher.yaml", c.finetune().model(), c.id());
        continue;
      }
      boolean a = c.label().startsWith("(a)"), fc = c.label().startsWith("(c)");
      assertEquals(a ? 0.0 : 1.0, c.run().weight(LossTerm.HID), c.id());
      assertEquals(a ? 0.0 : 1.0, c.run().weight(LossTerm.ATTN), c.id());
      assertEquals(fc, c.run().featureKdEnabled(), c.id());
      if (fc) assertEquals(50.0, c.run().weight(LossTerm.FD), c.id()); // (a), (b): fd has no teacher to weigh
      assertEquals(named(pm, "teacher").weights().toString(), c.run().teacher().weights());
      assertEquals("data-pipelines/vqa-rad-bge.yaml", c.finetune().data().pipeline());
      assertEquals(org.m3ae.tasks.TaskKind.RETRIEVAL, c.retrieval().kind());
      assertEquals(200, c.retrieval().train().maxSteps());
      assertEquals(c.seed(), c.retrieval().train().optimization().seed());
      assertEquals(c.pretrainDir().resolve("model.safetensors").toString(), c.retrieval().init());
    }
  }
  @Test
  void theStageZeroTeacherGridDistilsTheTowersOfStageZeroOnly() throws IOException {
    Path f = Path.of("configs/grids/medpix-mmkd-lit.yaml");
    GridPlan p = GridPlan.of(GridConfig.load(f), f, dir.resolve("lit"));
    assertEquals(List.of("lit"), p.shared.stream().map(GridPlan.SharedRun::name).toList());
    assertEquals("features/medpix-dev", GridConfig.load(f).featureRetrieval().features());
    assertEquals("dev", GridConfig.load(f).featureRetrieval().split());
    assertEquals(9, p.cells.size());
    for (GridPlan.Cell c : p.cells) {
      boolean a = c.label().startsWith("(a)"), fc = c.label().startsWith("(c)");
      // the teacher is stage 0 itself; its fusion is untrained, so no stack of it is distilled
      assertEquals(named(p, "lit").weights().toString(), c.run().teacher().weights(), c.id());
      assertEquals(0.0, c.run().kd().hidden().weights().fusion(), c.id());
      assertEquals(0.0, c.run().kd().attention().weights().fusion(), c.id());
      assertEquals(1.0, c.run().kd().hidden().weights().text(), c.id());
      assertEquals(a ? 0.0 : 1.0, c.run().weight(LossTerm.HID), c.id());
      assertEquals(fc, c.run().featureKdEnabled(), c.id());
      assertEquals("fit", c.run().data().split(), c.id());
      assertEquals(300, c.run().train().steps(), c.id());
      assertEquals(10, c.finetune().train().epochs(), c.id());
      assertEquals(null, c.retrieval(), c.id());
    }
  }

  @Test
  void theOneSessionMedpixGridDiffersFromTheFullOneOnlyInStageLengths() throws IOException {
    Path fullFile = Path.of("configs/grids/medpix-mmkd.yaml"), smallFile = Path.of("configs/grids/medpix-mmkd-small.yaml");
    GridPlan full = GridPlan.of(GridConfig.load(fullFile), fullFile, dir.resolve("full"));
    GridPlan small = GridPlan.of(GridConfig.load(smallFile), smallFile, dir.resolve("small"));
    assertEquals(List.of("lit", "teacher"), full.shared.stream().map(GridPlan.SharedRun::name).toList());
    assertEquals(List.of("lit", "teacher"), small.shared.stream().map(GridPlan.SharedRun::name).toList());
    // the teacher starts from stage 0's weights (its vision tower trained against bge's caption features)
    assertEquals(named(full, "lit").weights().toString(), named(full, "teacher").config().init().weights());
    assertEquals(named(small, "lit").weights().toString(), named(small, "teacher").config().init().weights());
    assertEquals(600, named(full, "teacher").config().train().steps());
    assertEquals(400, named(small, "teacher").config().train().steps());
    for (String n : List.of("lit", "teacher")) {
      assertEquals(strip(tree(named(full, n).configFile()), "/train/steps", "/init/weights"),
          strip(tree(named(small, n).configFile()), "/train/steps", "/init/weights"), n);
    }
    assertEquals(full.cells.size(), small.cells.size());
    for (int i = 0; i < full.cells.size(); i++) {
      GridPlan.Cell f = full.cells.get(i), m = small.cells.get(i);
      assertEquals(f.id(), m.id());
      if (f.shared() == null) {
        assertEquals(300, f.run().train().steps());
        assertEquals(60, m.run().train().steps());
        assertEquals(strip(tree(f.runFile()), "/name", "/train/steps", "/teacher/weights"),
            strip(tree(m.runFile()), "/name", "/train/steps", "/teacher/weights"), f.id());
      }
      assertEquals(10, f.finetune().train().epochs());
      assertEquals(3, m.finetune().train().epochs());
      assertEquals(strip(tree(f.finetuneFile()), "/name", "/init", "/train/epochs"),
          strip(tree(m.finetuneFile()), "/name", "/init", "/train/epochs"), f.id());
      assertEquals(200, f.retrieval().train().maxSteps());
      assertEquals(10, m.retrieval().train().maxSteps());
      assertEquals(strip(tree(f.retrievalFile()), "/name", "/init", "/train/max_steps"),
          strip(tree(m.retrievalFile()), "/name", "/init", "/train/max_steps"), f.id());
    }
  }

  private static GridPlan.SharedRun named(GridPlan p, String name) {
    return p.shared.stream().filter(r -> r.name().equals(name)).findFirst().orElseThrow();
  }

  private static com.fasterxml.jackson.databind.node.ObjectNode tree(Path yaml) throws IOException {
    return (com.fasterxml.jackson.databind.node.ObjectNode)
        new com.fasterxml.jackson.databind.ObjectMapper(new com.fasterxml.jackson.dataformat.yaml.YAMLFactory()).readTree(yaml.toFile());
  }

  /** The tree without the given JSON pointers' leaves (each must exist: a renamed key fails the comparison's premise). */
  private static com.fasterxml.jackson.databind.node.ObjectNode strip(com.fasterxml.jackson.databind.node.ObjectNode t, String... pointers) {
    for (String p : pointers) {
      int cut = p.lastIndexOf('/');
      var parent = (com.fasterxml.jackson.databind.node.ObjectNode) (cut == 0 ? t : t.at(p.substring(0, cut)));
      String key = p.substring(cut + 1);
      assertTrue(parent.has(key), p + " missing");
      parent.remove(key);
    }
    return t;
  }
}
