package org.m3ae.weights;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A Hugging Face {@code config.json} beside a weights file: the settings of a BERT-family encoder that its tensors do
 * not carry (heads, LayerNorm epsilon, activation, position-id style and pad id). Only the keys read here matter;
 * absent ones are null.
 */
public record HfConfigJson(Path file, Integer heads, Double lnEps, String hiddenAct, String modelType, Integer padTokenId,
    Integer hiddenSize, Integer layers) {

  /** The {@code config.json} in the weights file's folder, or null when there is none. */
  public static HfConfigJson beside(Path weights) {
    Path dir = weights.toAbsolutePath().getParent();
    Path f = dir == null ? null : dir.resolve("config.json");
    if (f == null || !Files.isRegularFile(f)) return null;
    try {
      JsonNode n = new ObjectMapper().readTree(f.toFile());
      return new HfConfigJson(f, integer(n, "num_attention_heads"), n.hasNonNull("layer_norm_eps") ? n.get("layer_norm_eps").asDouble() : null,
          n.hasNonNull("hidden_act") ? n.get("hidden_act").asText() : null, n.hasNonNull("model_type") ? n.get("model_type").asText() : null,
          integer(n, "pad_token_id"), integer(n, "hidden_size"), integer(n, "num_hidden_layers"));
    } catch (IOException e) {
      throw new WeightsException(f + ": cannot read as JSON: " + e.getMessage(), e);
    }
  }

  /** RoBERTa and its descendants count positions from pad_token_id + 1. */
  public boolean robertaPositions() {
    return modelType != null && (modelType.equals("roberta") || modelType.equals("xlm-roberta") || modelType.equals("camembert"));
  }

  private static Integer integer(JsonNode n, String key) {
    return n.hasNonNull(key) ? n.get(key).asInt() : null;
  }
}
