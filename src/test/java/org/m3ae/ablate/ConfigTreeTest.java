package org.m3ae.ablate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.m3ae.model.ConfigException;
import org.m3ae.tasks.DemoFinetune;
import org.m3ae.tasks.TaskConfig;

/** Deep merge of overrides into config trees, shared-run references, and the trip through a config's own loader. */
class ConfigTreeTest {
  @TempDir Path dir;

  static ObjectNode yaml(String text) throws Exception {
    return (ObjectNode) ConfigTree.YAML.readTree(text);
  }

  @Test
  void mappingsMergeKeyByKeyAndEverythingElseIsReplaced() throws Exception {
    ObjectNode base = yaml("""
        name: a
        train: {steps: 300, lr: 1.0e-3, betas: [0.9, 0.98], lr_multipliers: {backbone: 1, fusion: 1}}
        objectives: {mlm: 1, mim: 1, itm: 1, hid: 1, attn: 1}
        mask: {source: both}
        """);
    ConfigTree.merge(base, yaml("""
        train: {steps: 5, betas: [0.8], lr_multipliers: {fusion: 5}}
        objectives: {hid: 0}
        mask: null
        kd: {enabled: false}
        """));
    // written out by hand: what the merge must give
    ObjectNode expected = yaml("""
        name: a
        train: {steps: 5, lr: 1.0e-3, betas: [0.8], lr_multipliers: {backbone: 1, fusion: 5}}
        objectives: {mlm: 1, mim: 1, itm: 1, hid: 0, attn: 1}
        mask: null
        kd: {enabled: false}
        """);
    assertEquals(expected, base);
  }

  @Test
  void dottedKeysStandForNestedMappings() throws Exception {
    ObjectNode base = yaml("train: {steps: 300, seed: 0}\n");
    ConfigTree.merge(base, yaml("{train.seed: 7, teacher.weights: w.safetensors}"));
    assertEquals(yaml("{train: {steps: 300, seed: 7}, teacher: {weights: w.safetensors}}"), base);
  }

  @Test
  void sharedReferencesAreReplacedWholeAndUnknownOnesNamed() throws Exception {
    ObjectNode t = yaml("{teacher: {weights: '${shared.teacher}'}, kd: {layers: {vision: [1]}}, note: plain}");
    ConfigTree.resolveShared(t, n -> n.equals("teacher") ? "out/shared/teacher/pretrain/model.safetensors" : null, "g.yaml");
    assertEquals("out/shared/teacher/pretrain/model.safetensors", t.get("teacher").get("weights").asText());
    assertEquals("plain", t.get("note").asText());

    ConfigException e = assertThrows(ConfigException.class, () -> ConfigTree.resolveShared(
        yaml("{teacher: {weights: '${shared.other}'}}"), n -> null, "g.yaml: variant 'x'"));
    assertTrue(e.getMessage().contains("g.yaml: variant 'x'") && e.getMessage().contains("teacher.weights")
        && e.getMessage().contains("other"), e.getMessage());
    e = assertThrows(ConfigException.class, () -> ConfigTree.resolveShared(
        yaml("{teacher: {weights: 'runs/${shared.teacher}/x'}}"), n -> "w", "g.yaml"));
    assertTrue(e.getMessage().contains("whole value"), e.getMessage());
  }

  @Test
  void theDemoTaskConfigSurvivesTheTripThroughATreeAndItsLoader() {
    TaskConfig demo = DemoFinetune.settings("t", DemoFinetune.STUDENT_MODEL, 123);
    ObjectNode tree = ConfigTree.tree(demo);
    TaskConfig back = ConfigTree.writeAndLoad(tree, dir.resolve("ft.yaml"), TaskConfig::load, "ctx", false);
    assertEquals(demo, back);
  }

  @Test
  void anUnknownKeyFailsWithTheLoadersErrorAfterTheContext() throws Exception {
    ObjectNode tree = ConfigTree.tree(DemoFinetune.settings("t", DemoFinetune.STUDENT_MODEL, 5));
    ConfigTree.merge(tree, yaml("{train: {learning_rate: 1}}"));
    Path f = dir.resolve("bad.yaml");
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigTree.writeAndLoad(tree, f, TaskConfig::load, "grid.yaml: variant 'v'", false));
    assertTrue(e.getMessage().startsWith("grid.yaml: variant 'v': " + f), e.getMessage());
    assertTrue(e.getMessage().contains("unknown key 'train.learning_rate'"), e.getMessage());
  }

  @Test
  void aStartedRunsConfigMayNotChangeButAnUnstartedOneIsRewritten() throws Exception {
    Path f = dir.resolve("run.yaml");
    ObjectNode a = ConfigTree.tree(DemoFinetune.settings("a", DemoFinetune.STUDENT_MODEL, 5));
    ObjectNode b = ConfigTree.tree(DemoFinetune.settings("b", DemoFinetune.STUDENT_MODEL, 5));
    ConfigTree.writeAndLoad(a, f, TaskConfig::load, "ctx", false);
    assertEquals("b", ConfigTree.writeAndLoad(b, f, TaskConfig::load, "ctx", false).name());
    ConfigTree.writeAndLoad(b, f, TaskConfig::load, "ctx", true); // same content: fine
    // the same mappings in another key order (a Map.of iterates differently in another JVM): the same config
    ObjectNode reordered = yaml(Files.readString(f));
    ObjectNode mult = (ObjectNode) reordered.get("train").get("lr_multipliers");
    ObjectNode flipped = ConfigTree.empty();
    java.util.List<String> keys = new java.util.ArrayList<>();
    mult.fieldNames().forEachRemaining(keys::add);
    java.util.Collections.reverse(keys);
    for (String k : keys) flipped.set(k, mult.get(k));
    ((ObjectNode) reordered.get("train")).set("lr_multipliers", flipped);
    ConfigTree.writeAndLoad(reordered, f, TaskConfig::load, "ctx", true);
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigTree.writeAndLoad(a, f, TaskConfig::load, "ctx", true));
    assertTrue(e.getMessage().contains("different grid"), e.getMessage());
    assertTrue(Files.readString(f).contains("name: b"));
  }
}
