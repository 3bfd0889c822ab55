package org.m3ae.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.m3ae.model.ModelConfig;
import org.m3ae.weights.OnnxParity;
import org.m3ae.weights.TokenizedBatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code verify-onnx}: the project's text encoder with ONNX weights vs ONNX Runtime on the original file. */
@Command(name = "verify-onnx", mixinStandardHelpOptions = true,
    description = "Load a BERT-family ONNX model's weights into the project's text encoder, run ONNX Runtime on "
        + "the original file with the same tokens, print max_abs_diff of the last hidden state; exit 1 above the "
        + "threshold.")
public final class VerifyOnnxCommand implements Callable<Integer> {
  @Option(names = "--onnx", required = true, description = "BERT-family .onnx export (inputs input_ids, attention_mask, token_type_ids).")
  Path onnx;

  @Option(names = "--tokenizer", required = true, description = "Its Hugging Face tokenizer.json.")
  Path tokenizer;

  @Option(names = "--config", description = "Model config whose text encoder matches the file; default: inferred from the "
      + "file (tensor shapes; heads and LayerNorm epsilon from a config.json beside it, else from the ONNX graph).")
  Path config;

  @Option(names = "--base-config", defaultValue = InferredConfig.DEFAULT_BASE,
      description = "Without --config: vision, fusion and heads around the inferred text encoder (default ${DEFAULT-VALUE}).")
  Path baseConfig;

  @Option(names = "--heads", description = "Attention heads, when neither a config.json nor the graph tells them.")
  Integer heads;

  @Option(names = "--ln-eps", description = "LayerNorm epsilon, when neither a config.json nor the graph tells it.")
  Double lnEps;

  @Option(names = "--text", description = "Input text (repeatable; several texts form one padded batch).")
  List<String> texts;

  @Option(names = "--threshold", defaultValue = "1e-4", description = "Largest acceptable |difference| (default ${DEFAULT-VALUE}).")
  double threshold;

  @Override
  public Integer call() {
    ModelConfig cfg = InferredConfig.resolve(config, onnx, baseConfig, heads, lnEps, System.out);
    List<String> in = texts == null || texts.isEmpty() ? OnnxParity.DEFAULT_TEXTS : texts;
    TokenizedBatch batch = TokenizedBatch.of(tokenizer, in, cfg.text().padTokenId(), cfg.text().maxPositions());
    OnnxParity.Result r = OnnxParity.run(onnx, batch, cfg);
    System.out.println(r.report().summary());
    r.report().unused().forEach((k, why) -> System.out.println("  unused  " + k + (why.isEmpty() ? "" : " (" + why + ")")));
    System.out.printf("batch=%d tokens=%d%n", r.batch(), r.length());
    System.out.println("max_abs_diff=" + r.maxAbsDiff());
    boolean ok = r.maxAbsDiff() <= threshold;
    System.out.println(ok ? "OK (<= " + threshold + ")" : "FAILED (> " + threshold + ")");
    return ok ? 0 : 1;
  }
}
