package org.m3ae.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What each {@link Stack} claims about a built graph holds: its prefix numbers exactly its configured layers, and an
 * encoder stack's named tensors are the pass's.
 */
class StackTest {
  @Test
  void prefixesAndNamesMatchTheBuiltGraph() {
    ModelConfig c = ModelConfig.load(Path.of("configs/models/tiny-teacher.yaml"));
    M3aeGraph g = M3aeModel.build(c, BuildOptions.defaults());
    Pass p = g.addPass(PassSpec.inference().withName("mim").withHeads(PassSpec.Head.MIM)); // builds the MIM decoder
    Pass clean = g.pass("");
    for (Stack s : Stack.values()) {
      int n = s.layers(c);
      assertTrue(n > 0 && s.width(c) > 0 && s.heads(c) > 0, s.label());
      List<String> names = g.trainable().stream().map(v -> v.name()).toList();
      assertTrue(names.stream().anyMatch(v -> v.startsWith(s.prefix() + (n - 1) + ".")), s + ": last layer");
      assertFalse(names.stream().anyMatch(v -> v.startsWith(s.prefix() + n + ".")), s + ": no layer past the last");
    }
    for (Stack s : Stack.ENCODERS) {
      int n = s.layers(c);
      assertEquals(n + 1, s.hidden(clean).size(), s.label());
      for (int i = 0; i <= n; i++) assertEquals(s.hiddenName(i), s.hidden(clean).get(i).name(), s.label());
      for (int j = 0; j < n; j++) {
        for (String a : s.attentionNames(j)) assertTrue(g.sd().hasVariable(a), a);
      }
      boolean text = s == Stack.TEXT || s == Stack.FUSION_TEXT;
      assertEquals(text ? c.text().maxTextLen() : c.vision().numTokens(), s.tokens(clean), s.label() + " tokens");
    }
    assertEquals(List.of(Stack.VISION, Stack.TEXT, Stack.FUSION_TEXT, Stack.FUSION_IMAGE), Stack.ENCODERS);
    assertEquals(List.of("vision", "text", "fusion.text", "fusion.image", "mim.decoder"),
        List.of(Stack.values()).stream().map(Stack::label).toList());
    assertThrows(IllegalStateException.class, () -> Stack.MIM_DECODER.hiddenName(0));
    assertThrows(IllegalStateException.class, () -> Stack.MIM_DECODER.tokens(p));
  }
}
