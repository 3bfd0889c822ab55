package org.m3ae.weights;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Opens a weights file by its extension: {@code .safetensors}, {@code .onnx}, or a {@code torch.save}
 * file ({@code .ckpt}, {@code .pt}, {@code .pth}, {@code .bin}).
 */
public final class TensorSources {
  private TensorSources() {}

  public static TensorSource open(Path file) {
    if (!Files.isRegularFile(file)) throw new WeightsException(file + ": no such file");
    String n = file.getFileName().toString().toLowerCase(Locale.ROOT);
    if (n.endsWith(".safetensors")) return SafetensorsReader.open(file);
    if (n.endsWith(".onnx")) return OnnxInitializers.open(file);
    if (n.endsWith(".ckpt") || n.endsWith(".pt") || n.endsWith(".pth") || n.endsWith(".bin")) {
      return TorchCheckpointReader.open(file);
    }
    throw new WeightsException(file + ": unknown weights format (expected .safetensors, .onnx, or a "
        + "torch.save file: .ckpt, .pt, .pth, .bin)");
  }

  /**
   * The key map for a source: graph layout when the file says so (written by {@link GraphWeights}),
   * the official M3AE layout when it holds M3AE-only keys, otherwise a
   * BERT-family text encoder (which then initialises only the text tower).
   */
  public static KeyMap keyMapFor(TensorSource src) {
    if (src instanceof SafetensorsReader r
        && GraphWeights.LAYOUT_GRAPH.equals(r.metadata().get(GraphWeights.LAYOUT_KEY))) {
      return new GraphKeyMap();
    }
    for (String k : src.keys()) {
      if (k.startsWith("vision_encoder.") || k.startsWith("multi_modal_")) return new M3aeKeyMap();
    }
    return BertKeyMap.detect(src);
  }
}
