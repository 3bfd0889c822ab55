package org.m3ae.weights;

/**
 * Reads a file that already holds graph variables under their graph names and layout: the
 * {@code .safetensors} that {@code import --out X.safetensors}, {@code pretrain} and {@code
 * finetune} write. The vision position embedding is resized bicubically when the file's grid
 * differs from the config's (a 288 px pre-training run fine-tuned at 384 px, SPEC §1.1), as for
 * the official checkpoint; everything else is copied.
 */
public final class GraphKeyMap implements KeyMap {
  @Override
  public Rule rule(String target, long[] shape) {
    if (target.equals(M3aeKeyMap.FIXED_DECODER_POS)) return null;
    if (target.endsWith("visual.positional_embedding")) {
      return Rule.load(target, Transforms.POSITION_EMBEDDING, "graph layout, bicubic if the grid differs");
    }
    return Rule.load(target, Transforms.IDENTITY, "graph layout");
  }
}
