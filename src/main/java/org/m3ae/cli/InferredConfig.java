package org.m3ae.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import org.m3ae.model.ModelConfig;
import org.m3ae.weights.TextEncoderInference;

/** {@code --config} when given (it overrides everything), otherwise the text encoder inferred from the weights file. */
final class InferredConfig {
  static final String DEFAULT_BASE = "configs/models/minilm-l6-text.yaml";

  private InferredConfig() {}

  static ModelConfig resolve(Path config, Path weights, Path base, Integer heads, Double lnEps, PrintStream out) {
    if (config != null) {
      if (heads != null || lnEps != null) throw new IllegalArgumentException("--heads and --ln-eps are for an inferred config; "
          + "with --config they are that file's text.encoder.heads and ln_eps");
      return ModelConfig.load(config);
    }
    var r = TextEncoderInference.infer(weights, ModelConfig.load(base), new TextEncoderInference.Overrides(heads, lnEps));
    out.println("text encoder inferred from " + weights + ":");
    r.notes().forEach(n -> out.println("  " + n));
    return r.config();
  }
}
