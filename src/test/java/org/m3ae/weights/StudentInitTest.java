package org.m3ae.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.m3ae.model.M3aeGraph;
import org.m3ae.model.ModelConfig;
import org.m3ae.model.Stack;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.VariableType;

class StudentInitTest {

  @Test
  void efficientVlmMappingKnownAnswers() {
    // SPEC §6.2: EfficientVLM's load_params_choose_layers mapper {1:0, 3:1, ..., 11:5}
    assertArrayEquals(new int[] {1, 3, 5, 7, 9, 11}, LayerMapping.LAST_OF_BLOCK.map(12, 6));
    // CLIP's 11 blocks (SPEC §1.1) to the 6-block student: last of each ~1.83-block span
    assertArrayEquals(new int[] {1, 3, 5, 7, 9, 10}, LayerMapping.LAST_OF_BLOCK.map(11, 6));
    assertArrayEquals(new int[] {2, 5}, LayerMapping.LAST_OF_BLOCK.map(6, 2));
    // TinyBERT hidden-state choice i·k (SPEC §6.3), k = 3 for 12 → 4
    assertArrayEquals(new int[] {0, 3, 6, 9}, LayerMapping.FIRST_OF_BLOCK.map(12, 4));
    assertArrayEquals(new int[] {0, 1, 2, 3}, LayerMapping.LAST_OF_BLOCK.map(4, 4));
    assertArrayEquals(new int[] {1, 3, 5}, LayerMapping.explicit("1, 3,5", 12, 3));
  }

  @Test
  void tinyStudentFromTinyTeacher() {
    ModelConfig tc = ModelConfig.load(Path.of("configs/models/tiny-teacher.yaml"));
    ModelConfig sc = ModelConfig.load(Path.of("configs/models/tiny-student.yaml"));
    M3aeGraph teacher = WeightImport.withPretrainingHeads(tc);
    M3aeGraph student = WeightImport.withPretrainingHeads(sc);
    SameDiffSource ts = new SameDiffSource(teacher.sd(), "tiny teacher");
    Map<Stack, Integer> tl = StudentInit.layers(ts);
    assertEquals(tc.vision().encoder().layers(), tl.get(Stack.VISION));
    assertEquals(tc.fusion().layers(), tl.get(Stack.FUSION_IMAGE));
    Map<Stack, int[]> m = StudentInit.mapping(tl, sc, LayerMapping.LAST_OF_BLOCK, Map.of());
    StudentInit.Result r = StudentInit.run(ts, student, m);
    assertEquals(Map.of(), r.report().missing());
    System.out.print(StudentInit.describe(m, tl));
    int copied = 0;
    for (SDVariable v : student.trainable()) {
      String tn = StudentInit.teacherName(v.name(), m);
      assertArrayEquals(teacher.sd().getVariable(tn).getArr().data().asFloat(), v.getArr().data().asFloat(), v.name());
      copied++;
    }
    assertEquals(student.trainable().size(), copied);
    // a concrete case, spelled out: student ViT block 0 comes from teacher block 1 (4 → 2: 1, 3)
    assertEquals("vision_encoder.visual.transformer.resblocks.1.mlp.c_fc.weight",
        StudentInit.teacherName("vision_encoder.visual.transformer.resblocks.0.mlp.c_fc.weight", m));
    assertEquals("multi_modal_vision_layers.1.output.dense.bias",
        StudentInit.teacherName("multi_modal_vision_layers.0.output.dense.bias", m));
    assertEquals("mlm_head.decoder.weight", StudentInit.teacherName("mlm_head.decoder.weight", m));
    long unusedVars = teacher.sd().variables().stream()
        .filter(v -> v.getVariableType() == VariableType.VARIABLE).count() - copied;
    assertEquals(unusedVars, r.report().unused().size());
    assertTrue(r.report().unused().containsKey("vision_encoder.visual.transformer.resblocks.0.ln_1.weight"));
  }
}
