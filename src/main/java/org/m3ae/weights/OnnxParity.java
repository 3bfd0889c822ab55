package org.m3ae.weights;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.m3ae.model.M3aeGraph;
import org.m3ae.model.M3aeModel;
import org.m3ae.model.ModelConfig;
import org.m3ae.model.Names;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The parity check for a BERT-family ONNX export: its weights loaded into the project's own text
 * encoder must reproduce ONNX Runtime's last hidden state on the original file, same tokens. This
 * is what proves that the key map, the transposes and the encoder arithmetic agree.
 */
public final class OnnxParity {
  private OnnxParity() {}

  public record Result(double maxAbsDiff, int batch, int length, LoadReport report,
      INDArray ours, float[][][] reference) {}

  public static Result run(Path onnx, TokenizedBatch batch, ModelConfig cfg) {
    M3aeGraph g = M3aeModel.buildTextOnly(cfg, batch.length());
    LoadReport report;
    try (OnnxInitializers src = OnnxInitializers.open(onnx)) {
      report = WeightLoader.load(g.sd(), src, BertKeyMap.detect(src));
    }
    if (!report.missing().isEmpty()) {
      throw new WeightsException(onnx + ": the text encoder of '" + cfg.name() + "' misses "
          + report.missing().keySet() + " in this file; wrong config for this model?");
    }
    boolean types = cfg.text().typeVocabSize() > 1;
    Map<String, INDArray> ph = new HashMap<>();
    ph.put(Names.TEXT_IDS, Nd4j.createFromArray(batch.ids()).castTo(DataType.INT32));
    ph.put(Names.TEXT_MASK, Nd4j.createFromArray(batch.mask()).castTo(g.dtype()));
    if (types) ph.put(Names.TEXT_TYPE_IDS, Nd4j.createFromArray(batch.typeIds()).castTo(DataType.INT32));
    INDArray ours = g.sd().output(ph, Names.TEXT_OUT).get(Names.TEXT_OUT);
    float[][][] ref = runtime(onnx, batch);
    double max = 0;
    for (int b = 0; b < ref.length; b++) {
      for (int t = 0; t < ref[b].length; t++) {
        for (int d = 0; d < ref[b][t].length; d++) {
          max = Math.max(max, Math.abs(ref[b][t][d] - ours.getDouble(b, t, d)));
        }
      }
    }
    return new Result(max, batch.ids().length, batch.length(), report, ours, ref);
  }

  /** ONNX Runtime on the original file: the first rank-3 float output is the last hidden state. */
  static float[][][] runtime(Path onnx, TokenizedBatch batch) {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
      try (OrtSession s = env.createSession(onnx.toString(), opts)) {
        Map<String, OnnxTensor> in = new HashMap<>();
        try {
          for (String name : s.getInputNames()) {
            long[][] v = switch (name) {
              case "input_ids" -> batch.ids();
              case "attention_mask" -> batch.mask();
              case "token_type_ids" -> batch.typeIds();
              default -> throw new WeightsException(onnx + ": unexpected model input '" + name
                  + "' (expected input_ids, attention_mask, token_type_ids)");
            };
            in.put(name, OnnxTensor.createTensor(env, v));
          }
          String out = null;
          for (Map.Entry<String, NodeInfo> e : s.getOutputInfo().entrySet()) {
            if (e.getValue().getInfo() instanceof TensorInfo ti && ti.getShape().length == 3) {
              out = e.getKey();
              break;
            }
          }
          if (out == null) throw new WeightsException(onnx + ": no rank-3 output (last hidden state)");
          try (OrtSession.Result r = s.run(in, java.util.Set.of(out))) {
            return (float[][][]) r.get(0).getValue();
          }
        } finally {
          in.values().forEach(OnnxTensor::close);
        }
      }
    } catch (OrtException e) {
      throw new WeightsException(onnx + ": ONNX Runtime failed: " + e.getMessage(), e);
    }
  }

  /** Sentences for the default check: short, long, punctuation, and different lengths for padding. */
  public static final List<String> DEFAULT_TEXTS = List.of(
      "A chest X-ray shows no acute cardiopulmonary abnormality.",
      "Is there a pleural effusion?",
      "The MRI reveals a 2.3 cm enhancing lesion in the left temporal lobe, consistent with glioma.");
}
