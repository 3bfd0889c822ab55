package org.m3ae.distill;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.m3ae.model.Stack;
import org.m3ae.model.ModelConfig;

/** The layer mapping for the paper's students, worked out by hand from §3.2.2 and M3AE's 11 ViT blocks. */
class KdMappingTest {
  private static ModelConfig load(String n) {
    return ModelConfig.load(Path.of("configs/models/" + n));
  }

  @Test
  void smallStudentThreeToOneUniModalSixToOneFusion() {
    KdMapping m = KdMapping.of(load("teacher-m3ae.yaml"), load("student-small.yaml"), Map.of());
    // text 12 → 4 (3:1): last layer of each block of three; hidden states at 0, 3, 6, 9, 12 (EfficientVLM i·k).
    assertArrayEquals(new int[] {2, 5, 8, 11}, m.attention().get(Stack.TEXT));
    assertArrayEquals(new int[] {0, 3, 6, 9, 12}, m.hidden().get(Stack.TEXT));
    // vision 11 → 4 (ratio 2.75): ⌈(j+1)·2.75⌉ − 1 = 2, 5, 8, 10.
    assertArrayEquals(new int[] {2, 5, 8, 10}, m.attention().get(Stack.VISION));
    assertArrayEquals(new int[] {0, 3, 6, 9, 11}, m.hidden().get(Stack.VISION));
    // fusion 6 → 1 (6:1): the last teacher layer.
    assertArrayEquals(new int[] {5}, m.attention().get(Stack.FUSION_TEXT));
    assertArrayEquals(new int[] {0, 6}, m.hidden().get(Stack.FUSION_IMAGE));
  }

  @Test
  void baseStudentTwoToOneUniModalThreeToOneFusion() {
    KdMapping m = KdMapping.of(load("teacher-m3ae.yaml"), load("student-base.yaml"), Map.of());
    assertArrayEquals(new int[] {1, 3, 5, 7, 9, 11}, m.attention().get(Stack.TEXT));
    assertArrayEquals(new int[] {0, 2, 4, 6, 8, 10, 12}, m.hidden().get(Stack.TEXT));
    assertArrayEquals(new int[] {1, 3, 5, 7, 9, 10}, m.attention().get(Stack.VISION)); // 11/6
    assertArrayEquals(new int[] {2, 5}, m.attention().get(Stack.FUSION_TEXT));
    assertArrayEquals(new int[] {0, 3, 6}, m.hidden().get(Stack.FUSION_TEXT));
  }

  @Test
  void explicitPartnersOverrideAndAreChecked() {
    ModelConfig t = load("teacher-m3ae.yaml"), s = load("student-small.yaml");
    KdMapping m = KdMapping.of(t, s, Map.of(Stack.VISION, new int[] {0, 1, 2, 10}));
    assertArrayEquals(new int[] {0, 1, 2, 3, 11}, m.hidden().get(Stack.VISION));
    assertThrows(IllegalArgumentException.class, () -> KdMapping.of(t, s, Map.of(Stack.VISION, new int[] {0, 1, 2, 11})));
    assertThrows(IllegalArgumentException.class, () -> KdMapping.of(t, s, Map.of(Stack.TEXT, new int[] {0, 1})));
  }
}
