package org.m3ae.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.m3ae.model.ConfigException;

/** {@code feature_kd} and the fd/icl weights of a run config: defaults applied once, bad values named by key. */
class RunConfigFeatureKdTest {
  @TempDir Path dir;

  @Test
  void theExampleLoadsWithItsDefaults() {
    RunConfig rc = RunConfig.load(Path.of("configs/runs/distill-synth-mmkd.yaml"));
    assertTrue(rc.featureKdEnabled());
    assertEquals(50.0, rc.weight(LossTerm.FD));
    assertEquals(1.0, rc.weight(LossTerm.ICL));
    assertEquals(RunConfig.StudentFeatures.UNIMODAL, rc.featureKd().student());
    assertEquals(List.of("synth", "minilm"), rc.featureKd().teachers().stream().map(RunConfig.FeatureTeacher::name).toList());
    assertEquals(1.0, rc.featureKd().teachers().get(1).weight());
    assertEquals(null, rc.featureKd().teachers().get(0).kinds(), "all kinds the directory holds");
    RunConfig plain = RunConfig.load(Path.of("configs/runs/distill-synth.yaml"));
    assertTrue(!plain.featureKdEnabled());
  }

  @Test
  void badEntriesNameTheirKey() throws Exception {
    String base = Files.readString(Path.of("configs/runs/distill-synth.yaml"));
    assertError(base + "feature_kd: {teachers: [{name: A-B, features: f}]}\n", "feature_kd.teachers[0].name");
    assertError(base + "feature_kd: {teachers: [{name: a, features: f}, {name: a, features: g}]}\n", "used twice");
    assertError(base + "feature_kd: {teachers: [{name: a, features: f, kinds: [audio]}]}\n", "audio");
    assertError(base.replace("attn: 1}", "attn: 1, fd: -1}"), "objectives.fd");
  }

  private void assertError(String yaml, String want) throws Exception {
    Path f = Files.writeString(dir.resolve("bad.yaml"), yaml);
    Exception e = assertThrows(Exception.class, () -> RunConfig.load(f));
    assertTrue(e.getMessage().contains(want), e.getMessage());
    assertTrue(e instanceof ConfigException || e instanceof IllegalArgumentException, e.toString());
  }
}
