package org.m3ae.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.m3ae.testing.Edits;

/** Model configs load as documented, and every mistake is reported with the file, line and key. */
class ModelConfigTest {
  @TempDir Path dir;

  private static String teacher() throws IOException {
    return Files.readString(Path.of("configs/models/teacher-m3ae.yaml"));
  }

  private ConfigException broken(String yaml) throws IOException {
    Path f = dir.resolve("broken.yaml");
    Files.writeString(f, yaml);
    ConfigException e = assertThrows(ConfigException.class, () -> ModelConfig.load(f));
    assertTrue(e.getMessage().startsWith(f.toString()), "message names the file: " + e.getMessage());
    return e;
  }

  @Test
  void shippedConfigsMatchThePaper() {
    ModelConfig t = ModelConfig.load(Path.of("configs/models/teacher-m3ae.yaml"));
    assertEquals(11, t.vision().encoder().layers());
    assertEquals(325, t.vision().numTokens());
    assertEquals(81, t.mimKeep());
    assertEquals(3, t.mimFusionLayer());
    assertEquals(ModelConfig.Activation.QUICK_GELU, t.vision().encoder().activation());
    assertEquals(1e-12, t.fusion().lnEps());
    ModelConfig s = ModelConfig.load(Path.of("configs/models/student-small.yaml"));
    assertEquals(4, s.vision().encoder().layers());
    assertEquals(4, s.text().encoder().layers());
    assertEquals(1, s.fusion().layers());
    assertEquals(1, s.mimFusionLayer());
    ModelConfig b = ModelConfig.load(Path.of("configs/models/student-base.yaml"));
    assertEquals(6, b.vision().encoder().layers());
    assertEquals(6, b.text().encoder().layers());
    assertEquals(2, b.fusion().layers());
    for (ModelConfig c : new ModelConfig[] {s, b}) {
      assertEquals(768, c.fusion().width());
      assertEquals(12, c.vision().encoder().heads());
    }
  }

  @Test
  void unknownKeyIsNamedWithItsLineAndTheKnownKeys() throws IOException {
    String yaml = Edits.replaceOnce(teacher(), "    mlp_dim: 3072\n    activation: quick_gelu", "    mlp_dims: 3072\n    activation: quick_gelu");
    ConfigException e = broken(yaml);
    assertTrue(e.getMessage().contains("unknown key 'vision.encoder.mlp_dims'"), e.getMessage());
    int line = 1 + (int) yaml.substring(0, yaml.indexOf("mlp_dims")).chars().filter(ch -> ch == '\n').count();
    assertTrue(e.getMessage().contains(":" + line + ":"), "line " + line + " in " + e.getMessage());
    assertTrue(e.getMessage().contains("mlp_dim"), e.getMessage());
  }

  @Test
  void missingKeyIsNamed() throws IOException {
    ConfigException e = broken(Edits.replaceOnce(teacher(), "  pad_token_id: 1\n", ""));
    assertTrue(e.getMessage().contains("missing key 'text.pad_token_id'"), e.getMessage());
  }

  @Test
  void wrongTypeIsNamed() throws IOException {
    ConfigException e = broken(Edits.replaceOnce(teacher(), "  patch_size: 16", "  patch_size: sixteen"));
    assertTrue(e.getMessage().contains("'vision.patch_size'"), e.getMessage());
    ConfigException a = broken(Edits.replaceOnce(teacher(), "activation: gelu       # exact erf GELU", "activation: swish"));
    assertTrue(a.getMessage().contains("'text.encoder.activation'"), a.getMessage());
  }

  @Test
  void inconsistentValuesAreNamed() throws IOException {
    assertTrue(broken(Edits.replaceOnce(teacher(), "  heads: 12\n  mlp_dim: 3072\n  activation: gelu\n  ln_eps: 1.0e-12",
        "  heads: 7\n  mlp_dim: 3072\n  activation: gelu\n  ln_eps: 1.0e-12")).getMessage().contains("'fusion.heads'"));
    assertTrue(broken(Edits.replaceOnce(teacher(), "image_size: 288", "image_size: 290")).getMessage().contains("'vision.image_size'"));
    assertTrue(broken(Edits.replaceOnce(teacher(), "  layer: 3 ", "  layer: 9 ")).getMessage().contains("'mim.layer'"));
    assertTrue(broken(Edits.replaceOnce(teacher(), "mask_ratio: 0.75", "mask_ratio: 1.5")).getMessage().contains("'mim.mask_ratio'"));
    assertTrue(broken(Edits.replaceOnce(teacher(), "max_positions: 514", "max_positions: 60")).getMessage().contains("'text.max_positions'"));
  }

  @Test
  void missingFileAndBadYamlAreReported() throws IOException {
    ConfigException e = assertThrows(ConfigException.class, () -> ModelConfig.load(dir.resolve("nope.yaml")));
    assertTrue(e.getMessage().contains("nope.yaml"));
    assertTrue(broken("name: [unclosed\n").getMessage().contains("broken.yaml"));
  }
}
