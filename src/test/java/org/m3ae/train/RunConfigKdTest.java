package org.m3ae.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.m3ae.distill.KdMapping;
import org.m3ae.distill.KdSpec;
import org.m3ae.model.ConfigException;
import org.m3ae.model.Stack;

/** The {@code kd:} block's KD forms and the logit KD weights: defaults applied once, bad values named by file and key. */
class RunConfigKdTest {
  @TempDir Path dir;

  /** A config without the new keys keeps the paper's literal objective. */
  @Test
  void leftOutEverythingIsThePapersForm() throws Exception {
    String base = base().replaceAll("(?s)\nkd:.*?\nmask:", "\nkd:\n  enabled: true\nmask:");
    RunConfig rc = load(base);
    RunConfig.Kd kd = rc.kd();
    assertEquals(RunConfig.AttentionForm.PROBS, kd.attention().form());
    assertEquals(RunConfig.AttentionScale.NONE, kd.attention().scale());
    assertEquals(new RunConfig.StackWeights(1.0, 1.0, 1.0), kd.attention().weights());
    assertEquals(new RunConfig.StackWeights(1.0, 1.0, 1.0), kd.hidden().weights());
    assertEquals(1.0, kd.logits().temperature());
    assertNull(kd.alpha());
    assertEquals(0.0, rc.weight(LossTerm.MLM_KD));
    assertEquals(0.0, rc.weight(LossTerm.ITM_KD));
    assertEquals(KdSpec.LITERAL, KdSpec.of(kd));
    // no kd block at all
    assertEquals(KdSpec.LITERAL, KdSpec.of(load(base.replace("kd:\n  enabled: true\n", "")).kd()));
  }

  @Test
  void everyKeyIsRead() throws Exception {
    RunConfig rc = load(base().replaceAll("(?s)\nkd:.*?\nmask:", """

        kd:
          enabled: true
          attention: {form: scores, scale: keys, weights: {vision: 0.5, fusion: 2}}
          hidden: {weights: {vision: 0.1}}
          logits: {temperature: 2.5}
          alpha: 0.4
        mask:""").replace("attn: 1}", "attn: 1, mlm_kd: 1, itm_kd: 0.5}"));
    KdSpec kd = KdSpec.of(rc.kd());
    assertEquals(RunConfig.AttentionForm.SCORES, kd.attention());
    assertEquals(RunConfig.AttentionScale.KEYS, kd.scale());
    assertEquals(0.5, kd.attentionWeights().get(Stack.VISION));
    assertEquals(1.0, kd.attentionWeights().get(Stack.TEXT));
    assertEquals(2.0, kd.attentionWeights().get(Stack.FUSION_TEXT));
    assertEquals(2.0, kd.attentionWeights().get(Stack.FUSION_IMAGE));
    assertEquals(0.1, kd.hiddenWeights().get(Stack.VISION));
    assertEquals(1.0, kd.hiddenWeights().get(Stack.FUSION_IMAGE));
    assertEquals(2.5, kd.temperature());
    assertEquals(0.4, kd.alpha());
    assertEquals(1.0, rc.weight(LossTerm.MLM_KD));
    assertEquals(0.5, rc.weight(LossTerm.ITM_KD));
    assertEquals("loss_mlm_kd", LossTerm.MLM_KD.metric());
    RunConfig kl = load(base().replace("  enabled: true\n", "  enabled: true\n  attention: {form: kl}\n"));
    assertEquals(RunConfig.AttentionForm.KL, kl.kd().attention().form());
  }

  @Test
  void badValuesNameFileAndKey() throws Exception {
    String b = base();
    assertError(b.replace("  enabled: true\n", "  enabled: true\n  attention: {form: logits}\n"), "kd.attention.form");
    assertError(b.replace("  enabled: true\n", "  enabled: true\n  attention: {scale: length}\n"), "kd.attention.scale");
    assertError(b.replace("  enabled: true\n", "  enabled: true\n  attention: {weights: {vision: -1}}\n"), "kd.attention.weights.vision");
    assertError(b.replace("  enabled: true\n", "  enabled: true\n  hidden: {weights: {fusoin: 1}}\n"), "fusoin");
    assertError(b.replace("  enabled: true\n", "  enabled: true\n  hidden: {weights: {text: -0.5}}\n"), "kd.hidden.weights.text");
    assertError(b.replace("  enabled: true\n", "  enabled: true\n  alpha: 1.5\n"), "kd.alpha");
    assertError(b.replace("  enabled: true\n", "  enabled: true\n  logits: {temperature: 0}\n"), "kd.logits.temperature");
    assertError(b.replace("attn: 1}", "attn: 1, mlm_kd: -1}"), "objectives.mlm_kd");
    String noTeacher = b.replaceAll("(?s)\nteacher:.*?\nstudent_init: teacher[^\n]*", "").replaceAll("(?s)\nkd:.*?\nmask:\n  source: both", "\nmask:\n  source: random");
    assertTrue(!noTeacher.contains("teacher:"), noTeacher);
    assertError(noTeacher.replace("attn: 1}", "attn: 1, itm_kd: 1}"), "objectives.itm_kd");
  }

  /** distill-synth.yaml without its explicit attention line, so that a test can add its own. */
  private static String base() throws Exception {
    String y = Files.readString(Path.of("configs/runs/distill-synth.yaml"));
    String line = "  attention: {form: probs, scale: none}\n";
    assertTrue(y.contains(line), "distill-synth.yaml names its attention form");
    return y.replace(line, "");
  }

  /** The demo's distillation config keeps the literal form (the validation sweep, docs/training.md). */
  @Test
  void theDemoConfigIsTheLiteralForm() {
    assertEquals(KdSpec.LITERAL, KdSpec.of(RunConfig.load(Path.of("configs/runs/distill-synth.yaml")).kd()));
  }

  private RunConfig load(String yaml) throws Exception {
    return RunConfig.load(Files.writeString(dir.resolve("kd.yaml"), yaml));
  }

  private void assertError(String yaml, String key) throws Exception {
    Path f = Files.writeString(dir.resolve("bad.yaml"), yaml);
    ConfigException e = assertThrows(ConfigException.class, () -> RunConfig.load(f));
    assertTrue(e.getMessage().contains(key) && e.getMessage().contains("bad.yaml"), e.getMessage());
  }
}
