package org.m3ae.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.m3ae.model.ModelConfig;
import org.m3ae.model.ModelConfig.Activation;
import org.m3ae.model.ModelConfig.Blocks;
import org.m3ae.model.ModelConfig.NormPlacement;
import org.junit.jupiter.api.Test;

/** FLOPs of a config small enough to count by hand (every number below is worked out in the comments). */
class FlopCountTest {
  /**
   * 32 px, patch 16, 1 channel: 4 patches of 256 values, 5 image tokens; vision 8 wide, 1 block, MLP 16; text 3 tokens,
   * 8 wide, 1 layer, MLP 16, vocab 10; fusion 4 wide, 1 layer, MLP 8; MIM keeps 2 patches, decoder 4 wide, 1 block, MLP 8.
   */
  static ModelConfig micro() {
    Blocks vis = new Blocks(8, 1, 2, 16, Activation.QUICK_GELU, NormPlacement.PRE, 1e-5, 0, 0);
    Blocks txt = new Blocks(8, 1, 2, 16, Activation.GELU, NormPlacement.POST, 1e-5, 0, 0);
    Blocks dec = new Blocks(4, 1, 1, 8, Activation.QUICK_GELU, NormPlacement.PRE, 1e-5, 0, 0);
    return new ModelConfig("micro",
        new ModelConfig.Vision(32, 16, 1, vis),
        new ModelConfig.Text(10, 8, 1, 1, ModelConfig.PositionIds.ROBERTA, 3, txt),
        new ModelConfig.Fusion(4, 1, 1, 8, Activation.GELU, 1e-12, 0, 0, 2),
        new ModelConfig.Mim(-1, 0.5, true, dec),
        new ModelConfig.Mlm(Activation.GELU, 1e-12),
        new ModelConfig.Itm(2),
        new ModelConfig.Init(0.02, 0));
  }

  @Test
  void inferenceByHand() {
    var b = FlopCount.pass(micro(), FlopCount.PassKind.INFERENCE).modules();
    // patch embedding 2·4·256·8 = 16384; block on 5 tokens: q,k,v,o 4·2·5·8·8 = 2560, MLP 2·(2·5·8·16) = 2560,
    // attention 2·(2·5·5·8) = 800
    assertEquals(16384 + 2560 + 2560 + 800, b.get("vision"));
    // 3 tokens: 4·2·3·64 = 1536, MLP 2·2·3·8·16 = 1536, attention 4·3·3·8 = 288
    assertEquals(1536 + 1536 + 288, b.get("text"));
    // 2·3·8·4 + 2·5·8·4
    assertEquals(192 + 320, b.get("projections"));
    // text stream: self 4·2·3·16 = 384 + 4·3·3·4 = 144; cross q,o 2·2·3·16 = 192, k,v 2·2·5·16 = 320, 4·3·5·4 = 240;
    // FFN 2·2·3·4·8 = 384 → 1664. Image stream: self 640 + 400; cross 320 + 192 + 240; FFN 640 → 2432.
    assertEquals(1664 + 2432, b.get("fusion"));
    assertEquals(2 * (2 * 4 * 4), b.get("poolers"));
    assertEquals(30336, FlopCount.inference(micro()));
  }

  @Test
  void pretrainingPassesByHand() {
    ModelConfig c = micro();
    // MIM: visible 2 + CLS = 3 tokens. Vision 16384 + block on 3 tokens (1536 + 1536 + 288); text 3360;
    // projections 192 + 192; fusion: only the image stream's layer 1 (len 3, other 3): 384 + 144 + 192 + 192 + 144 + 384;
    // head: embed 2·3·4·4 = 96, decoder block on 5 tokens of width 4 (640 + 640 + 400), pred 2·5·4·256 = 10240.
    assertEquals(19744 + 3360 + 384 + 1440 + 12016, FlopCount.pass(c, FlopCount.PassKind.MIM).total());
    // MLM: vision 22304, text 3360, projections 512, fusion: text stream only 1664; head 2·3·4·4 + 2·3·4·10 = 336.
    assertEquals(22304 + 3360 + 512 + 1664 + 336, FlopCount.pass(c, FlopCount.PassKind.MLM).total());
    // ITM: the inference pass + 2·8·2 = 32.
    assertEquals(30336 + 32, FlopCount.pass(c, FlopCount.PassKind.ITM).total());
    assertEquals(3 * (36944 + 28176 + 30368), FlopCount.pretrainStep(c));
    assertEquals((36944 + 28176 + 30368) + FlopCount.pretrainStep(c), FlopCount.distillStep(c, c));
  }

  @Test
  void implementationOverheadCountsOneHotProducts() {
    // word 2·3·10·8 = 480, RoBERTa positions 2·3·8·8 = 384; MIM adds 2·2·4·8 = 128 and 2·4·2·4 = 64
    assertEquals(480 + 384, FlopCount.implementationOverhead(micro(), FlopCount.PassKind.ITM));
    assertEquals(480 + 384 + 128 + 64, FlopCount.implementationOverhead(micro(), FlopCount.PassKind.MIM));
  }
}
