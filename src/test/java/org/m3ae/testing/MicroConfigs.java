package org.m3ae.testing;

import org.m3ae.model.ModelConfig;
import org.m3ae.model.ModelConfig.Activation;
import org.m3ae.model.ModelConfig.Blocks;
import org.m3ae.model.ModelConfig.NormPlacement;
import org.m3ae.model.ModelConfig.PositionIds;

/** Very small configs built in code, for gradient checks and reference comparisons that must run in seconds. */
public final class MicroConfigs {
  private MicroConfigs() {}

  public static Blocks clip(int width, int layers, int heads) {
    return new Blocks(width, layers, heads, 2 * width, Activation.QUICK_GELU, NormPlacement.PRE, 1e-5, 0, 0);
  }

  public static Blocks bert(int width, int layers, int heads) {
    return new Blocks(width, layers, heads, 2 * width, Activation.GELU, NormPlacement.POST, 1e-12, 0, 0);
  }

  /** 16×16 image with 8 px patches (4 patches), width 8, text length 6 over a 40-token vocabulary. */
  public static ModelConfig micro() {
    return new ModelConfig(
        "micro",
        new ModelConfig.Vision(16, 8, 3, clip(8, 1, 2)),
        new ModelConfig.Text(40, 12, 1, 1, PositionIds.ROBERTA, 6, bert(8, 1, 2)),
        new ModelConfig.Fusion(8, 2, 2, 16, Activation.GELU, 1e-12, 0, 0, 2),
        new ModelConfig.Mim(1, 0.5, true, clip(8, 1, 2)),
        new ModelConfig.Mlm(Activation.GELU, 1e-12),
        new ModelConfig.Itm(2),
        new ModelConfig.Init(0.3, 7));
  }
}
