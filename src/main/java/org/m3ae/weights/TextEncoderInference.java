package org.m3ae.weights;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.m3ae.model.ModelConfig;

/**
 * The text-encoder config of a BERT-family weights file, read from the file instead of written by hand: vocabulary,
 * width, positions and token types from the embedding tables, depth from the layer indices, intermediate size from
 * the first FFN. Heads and LayerNorm epsilon are not in any tensor: they come from an explicit override, else a
 * {@code config.json} beside the file, else the ONNX graph ({@link OnnxGraphHints}), else an error asking for them.
 * Vision, fusion and heads around the encoder are taken from a base config.
 */
public final class TextEncoderInference {
  /** Values given on the command line; null = infer. */
  public record Overrides(Integer heads, Double lnEps) {
    public static final Overrides NONE = new Overrides(null, null);
  }

  /** The config, and one line per inferred value saying where it came from. */
  public record Inferred(ModelConfig config, List<String> notes) {}

  private static final Pattern LAYER = Pattern.compile("^encoder\\.layer\\.(\\d+)\\.");

  private TextEncoderInference() {}

  public static Inferred infer(Path weights, ModelConfig base, Overrides o) {
    try (TensorSource src = TensorSources.open(weights)) {
      KeyMap map = TensorSources.keyMapFor(src);
      if (!(map instanceof BertKeyMap bert) || src.contains("language_encoder.embeddings.word_embeddings.weight")) {
        throw new WeightsException(weights + ": holds a whole M3AE-family model, not a BERT-family text encoder; give "
            + "--config with the model config it belongs to");
      }
      OnnxGraphHints graph = null;
      if (src instanceof OnnxInitializers onnx) {
        graph = OnnxGraphHints.of(onnx.model(), weights, (int) src.shape(bert.sourcePrefix() + "embeddings.word_embeddings.weight")[1]);
      }
      return infer(src, bert.sourcePrefix(), weights, HfConfigJson.beside(weights), graph, base, o);
    }
  }

  static Inferred infer(TensorSource src, String prefix, Path weights, HfConfigJson hf, OnnxGraphHints graph, ModelConfig base,
      Overrides o) {
    List<String> notes = new ArrayList<>();
    long[] word = shape(src, prefix + "embeddings.word_embeddings.weight");
    long[] pos = shape(src, prefix + "embeddings.position_embeddings.weight");
    long[] type = shape(src, prefix + "embeddings.token_type_embeddings.weight");
    int vocab = (int) word[0], width = (int) word[1];
    TreeSet<Integer> layerIds = new TreeSet<>();
    for (String k : src.keys()) {
      if (!k.startsWith(prefix)) continue;
      Matcher m = LAYER.matcher(k.substring(prefix.length()));
      if (m.find()) layerIds.add(Integer.parseInt(m.group(1)));
    }
    if (layerIds.isEmpty()) throw new WeightsException(src.origin() + ": no '" + prefix + "encoder.layer.N.*' tensors");
    int layers = layerIds.last() + 1;
    if (layerIds.size() != layers) {
      throw new WeightsException(src.origin() + ": encoder layers " + layerIds + " are not numbered 0.." + (layers - 1));
    }
    int mlp = (int) shape(src, prefix + "encoder.layer.0.intermediate.dense.weight")[0];
    notes.add("vocab " + vocab + ", width " + width + ", positions " + pos[0] + ", token types " + type[0] + ", layers " + layers
        + ", intermediate " + mlp + " (tensor shapes)");
    if (hf != null) {
      if (hf.hiddenSize() != null && hf.hiddenSize() != width) throw disagree(hf, "hidden_size " + hf.hiddenSize(), "width " + width, src);
      if (hf.layers() != null && hf.layers() != layers) throw disagree(hf, "num_hidden_layers " + hf.layers(), layers + " layers", src);
    }

    Sourced<Integer> heads = firstKnown(o.heads(), "--heads", hf == null ? null : hf.heads(), hf,
        graph == null ? null : graph.heads, "ONNX reshape constants");
    if (heads == null) {
      throw new WeightsException(src.origin() + ": cannot tell the number of attention heads (no config.json beside the file"
          + (graph == null ? "" : ", and the ONNX graph's reshapes do not show one head split") + "): pass --heads N (width "
          + width + "; BERT-base has 12 heads of 64)");
    }
    if (heads.value() <= 0 || width % heads.value() != 0) {
      throw new WeightsException(src.origin() + ": " + heads.value() + " heads (" + heads.from() + ") do not divide width " + width);
    }
    notes.add("heads " + heads.value() + " (" + heads.from() + ")");

    Sourced<Double> eps = firstKnown(o.lnEps(), "--ln-eps", hf == null ? null : hf.lnEps(), hf,
        graph == null ? null : graph.lnEps, "ONNX LayerNorm constant");
    if (eps == null) {
      throw new WeightsException(src.origin() + ": cannot tell the LayerNorm epsilon (no config.json beside the file"
          + (graph == null ? "" : ", and no single epsilon in the ONNX graph") + "): pass --ln-eps E (BERT: 1e-12)");
    }
    notes.add("ln_eps " + eps.value() + " (" + eps.from() + ")");

    ModelConfig.Activation act = activation(src, hf, graph);
    notes.add("activation " + act.name().toLowerCase() + (hf != null && hf.hiddenAct() != null ? " (" + hf.file() + ")"
        : graph != null ? " (ONNX Erf)" : " (BERT's default; no config.json)"));

    boolean roberta = hf != null ? hf.robertaPositions() : graph != null && graph.cumulativePositions;
    int pad = hf != null && hf.padTokenId() != null ? hf.padTokenId() : roberta ? 1 : 0;
    ModelConfig.PositionIds posIds = roberta ? ModelConfig.PositionIds.ROBERTA : ModelConfig.PositionIds.ABSOLUTE;
    notes.add("position ids " + posIds.name().toLowerCase() + ", pad id " + pad);
    int usable = roberta ? (int) pos[0] - pad - 1 : (int) pos[0];
    int textLen = Math.min(base.text().maxTextLen(), usable);

    var be = base.text().encoder();
    ModelConfig.Blocks enc = new ModelConfig.Blocks(width, layers, heads.value(), mlp, act, ModelConfig.NormPlacement.POST, eps.value(),
        be.hiddenDropout(), be.attentionDropout());
    ModelConfig.Text text = new ModelConfig.Text(vocab, (int) pos[0], (int) type[0], pad, posIds, textLen, enc);
    String name = weights.getFileName().toString().replaceFirst("\\.[^.]+$", "");
    return new Inferred(new ModelConfig(name, base.vision(), text, base.fusion(), base.mim(), base.mlm(), base.itm(), base.init()), notes);
  }

  private static ModelConfig.Activation activation(TensorSource src, HfConfigJson hf, OnnxGraphHints graph) {
    if (hf != null && hf.hiddenAct() != null) {
      return switch (hf.hiddenAct()) {
        case "gelu" -> ModelConfig.Activation.GELU;
        case "relu" -> ModelConfig.Activation.RELU;
        case "quick_gelu" -> ModelConfig.Activation.QUICK_GELU;
        default -> throw new WeightsException(hf.file() + ": hidden_act '" + hf.hiddenAct() + "' is not built here (gelu, relu, "
            + "quick_gelu)");
      };
    }
    if (graph != null && !graph.erfGelu) {
      throw new WeightsException(src.origin() + ": the ONNX graph has no Erf node, so its activation is not the exact GELU this "
          + "project builds for BERT: give --config with the activation");
    }
    return ModelConfig.Activation.GELU;
  }

  /** A value and where it came from, for the notes and error messages. */
  private record Sourced<T>(T value, String from) {}

  /** The first of the command line, config.json and the ONNX graph that knows the value, or null when none does. */
  private static <T> Sourced<T> firstKnown(T option, String optionName, T fromJson, HfConfigJson hf, T fromGraph,
      String graphLabel) {
    if (option != null) return new Sourced<>(option, optionName);
    if (fromJson != null) return new Sourced<>(fromJson, hf.file().toString());
    if (fromGraph != null) return new Sourced<>(fromGraph, graphLabel);
    return null;
  }

  private static long[] shape(TensorSource src, String key) {
    if (!src.contains(key)) throw new WeightsException(src.origin() + ": no tensor '" + key + "' (not a BERT-family encoder?)");
    return src.shape(key);
  }

  private static WeightsException disagree(HfConfigJson hf, String says, String tensors, TensorSource src) {
    return new WeightsException(hf.file() + " says " + says + " but the tensors of " + src.origin() + " give " + tensors
        + ": is it the config of this file?");
  }
}
