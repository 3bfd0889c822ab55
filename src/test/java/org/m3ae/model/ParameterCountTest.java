package org.m3ae.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Exact parameter counts of the three full-size configs against the numbers worked out by hand from the official
 * module shapes (SPEC §0 and §1.6, paper Table 1). Graphs are built zero-filled: same variables, no random draws.
 */
class ParameterCountTest {
  private static ParameterCount count(String config, ModelConfig[] cfgOut) {
    ModelConfig c = ModelConfig.load(Path.of("configs/models/" + config));
    cfgOut[0] = c;
    PassSpec pass = PassSpec.inference().withHeads(PassSpec.Head.MLM, PassSpec.Head.MIM, PassSpec.Head.ITM);
    M3aeGraph g = M3aeModel.build(c, BuildOptions.defaults().withRandomInit(false).withPass(pass));
    ParameterCount pc = ParameterCount.of(g);
    g.sd().variables().forEach(v -> { if (v.getArr() != null) v.getArr().close(); });
    return pc;
  }

  private static void check(String config, long vision, long text, long fusion, long img, long txt, long perStream, long total) {
    ModelConfig[] c = new ModelConfig[1];
    ParameterCount pc = count(config, c);
    assertEquals(vision, pc.vision(), config + " vision @288");
    assertEquals(text, pc.text(), config + " text");
    assertEquals(fusion, pc.fusion(), config + " fusion");
    assertEquals(1_182_720, pc.projections(), config + " projections");
    assertEquals(1_181_184, pc.poolers(), config + " poolers");
    assertEquals(39_245_913, pc.mlm(), config + " mlm head");
    assertEquals(7_689_984, pc.mim(), config + " mim head");
    assertEquals(124_800, pc.mimFixed(), config + " mim fixed positions");
    assertEquals(3_074, pc.itm(), config + " itm head");
    assertEquals(0, pc.other(), config + " unclassified variables");
    Map<String, Long> paper = pc.paperTable1(c[0]);
    assertEquals(img, paper.get("image"), config + " paper image");
    assertEquals(txt, paper.get("text"), config + " paper text");
    assertEquals(perStream, paper.get("fusion_text"), config + " paper fusion (text stream)");
    assertEquals(perStream, paper.get("fusion_vision"), config + " paper fusion (vision stream)");
    assertEquals(total, paper.get("total"), config + " paper total");
  }

  @Test
  void teacher() {
    check("teacher-m3ae.yaml", 78_809_856, 124_055_040, 113_421_312, 104_340_736, 124_645_632, 56_710_656, 342_407_680);
  }

  @Test
  void studentSmall() {
    check("student-small.yaml", 29_194_752, 67_352_064, 18_903_552, 54_725_632, 67_942_656, 9_451_776, 141_571_840);
  }

  @Test
  void studentBase() {
    check("student-base.yaml", 43_370_496, 81_527_808, 37_807_104, 68_901_376, 82_118_400, 18_903_552, 188_826_880);
  }
}
