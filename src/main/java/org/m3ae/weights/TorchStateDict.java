package org.m3ae.weights;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds the state dict in an unpickled checkpoint: the top-level dict itself ({@code
 * torch.save(model.state_dict())}), or the dict under {@code state_dict} (PyTorch Lightning, as
 * the official m3ae.ckpt) or {@code model}. Everything else in the file (epoch, optimizer states,
 * hyper_parameters) is left as it was unpickled and never touched. Inside the state dict only
 * tensors are accepted: this is where the allowlist is strict.
 */
final class TorchStateDict {
  private TorchStateDict() {}

  static final List<String> WRAPPERS = List.of("state_dict", "model");

  static Map<String, TorchTensorRef> find(Object root, String origin) {
    if (!(root instanceof Map<?, ?> top)) {
      throw new WeightsException(origin + ": the pickle holds " + PickleValues.describe(root)
          + ", not a state dict (save model.state_dict() with torch.save)");
    }
    String where = "the top-level dict";
    Map<?, ?> dict = top;
    for (String w : WRAPPERS) {
      if (top.get(w) instanceof Map<?, ?> inner) {
        dict = inner;
        where = "'" + w + "'";
        break;
      }
    }
    if (dict == top && !top.isEmpty() && top.values().stream().noneMatch(v -> v instanceof TorchTensorRef)) {
      List<String> keys = new ArrayList<>();
      for (Object k : top.keySet()) keys.add(String.valueOf(k));
      throw new WeightsException(origin + ": no state dict: expected a dict of tensors, or one under "
          + WRAPPERS + "; the top-level keys are " + keys
          + (top.get("model") != null ? " ('model' is " + PickleValues.describe(top.get("model"))
              + "; save model.state_dict() instead of the module)" : ""));
    }
    Map<String, TorchTensorRef> out = new LinkedHashMap<>();
    for (Map.Entry<?, ?> e : dict.entrySet()) {
      if (!(e.getKey() instanceof String key)) {
        throw new WeightsException(origin + ": state dict " + where + " has a key that is "
            + PickleValues.describe(e.getKey()) + ", not a str");
      }
      if (!(e.getValue() instanceof TorchTensorRef t)) {
        throw new WeightsException(origin + ": state dict " + where + ", key '" + key + "': "
            + PickleValues.describe(e.getValue()) + ", not a tensor. Only tensors rebuilt by "
            + TorchGlobals.REBUILD_TENSOR + " (optionally as nn.Parameter) are accepted in a state dict");
      }
      out.put(key, t);
    }
    return out;
  }
}
