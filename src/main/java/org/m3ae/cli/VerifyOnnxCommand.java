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

  @Option(names = "--config", defaultValue = "configs/models/minilm-l6-text.yaml",
      description = "Text-encoder config matching the model (default ${DEFAULT-VALUE}).")
  Path config;

  @Option(names = "--text", description = "Input text (repeatable; several texts form one padded batch).")
  List<String> texts;

  @Option(names = "--threshold", defaultValue = "1e-4", description = "Largest acceptable |difference| (default ${DEFAULT-VALUE}).")
  double threshold;

  @Override
  public Integer call() {
    ModelConfig cfg = ModelConfig.load(config);
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
