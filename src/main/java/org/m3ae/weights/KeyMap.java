package org.m3ae.weights;

/**
 * Where each graph variable's value comes from in a checkpoint. A map that returns null for a
 * variable leaves it at its initial value and the loader reports it missing, as PyTorch's {@code
 * load_state_dict(strict=False)} does for fresh heads (SPEC §4 "Loading semantics").
 */
public interface KeyMap {

  /**
   * One source key and the transform that turns it into the variable's value. {@code checkOnly}
   * rules compare the checkpoint against a fixed graph constant instead of loading it.
   */
  record Rule(String sourceKey, Transform transform, String how, boolean checkOnly) {
    public static Rule load(String sourceKey, Transform t, String how) {
      return new Rule(sourceKey, t, how, false);
    }
  }

  /** The rule for graph variable {@code target} (shape {@code shape}), or null. */
  Rule rule(String target, long[] shape);

  /** Why a checkpoint key no graph variable uses is expected to be unused, or null. */
  default String whyUnused(String sourceKey) {
    return null;
  }
}
