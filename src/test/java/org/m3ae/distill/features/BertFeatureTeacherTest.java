package org.m3ae.distill.features;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.m3ae.model.ModelConfig;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Sentence features of two real BERT-family encoders from Maven Central, computed by the project's text encoder with
 * the weights read from the ONNX file, against ONNX Runtime on the original file with the same text, each text alone
 * (no padding), pooled here by the model card's recipe: all-MiniLM-L6-v2 mean over tokens then L2-normalised (and an
 * e5-style "query: " prefix on the same model), bge-small-en-v1.5 the normalised [CLS] vector.
 */
class BertFeatureTeacherTest {
  static final ModelConfig BASE = ModelConfig.load(Path.of("configs/models/minilm-l6-text.yaml"));
  static final List<String> TEXTS = List.of("A chest X-ray shows no acute cardiopulmonary abnormality.", "Is there a pleural effusion?",
      "MRI: 2.3 cm enhancing lesion, left temporal lobe; consistent with glioma (grade IV)?", "ok");

  @TempDir static Path dir;
  static Path minilm, minilmTok, bge, bgeTok;

  @BeforeAll
  static void extract() throws Exception {
    minilm = resource("all-minilm-l6-v2.onnx");
    minilmTok = resource("all-minilm-l6-v2-tokenizer.json");
    bge = resource("bge-small-en-v1.5.onnx");
    bgeTok = resource("bge-small-en-v1.5-tokenizer.json");
  }

  static Path resource(String name) throws Exception {
    Path p = dir.resolve(name);
    try (InputStream in = BertFeatureTeacherTest.class.getClassLoader().getResourceAsStream(name)) {
      if (in == null) throw new IllegalStateException("test resource " + name + " missing (langchain4j embedding jars)");
      Files.copy(in, p);
    }
    return p;
  }

  @Test
  void miniLmMeanPooledAndNormalisedMatchesOnnxRuntime() throws Exception {
    check("name=minilm,preset=minilm,weights=" + minilm + ",tokenizer=" + minilmTok, minilm, minilmTok, "", TeacherSpec.Pooling.MEAN);
  }

  @Test
  void anE5StylePrefixIsPrependedToEveryText() throws Exception {
    // e5's weights are not on this machine; its recipe (mean pooling, normalised, "query: ") on MiniLM's weights
    TeacherSpec s = TeacherSpec.parse("name=e5,preset=e5,weights=" + minilm + ",tokenizer=" + minilmTok);
    assertEquals("query: ", s.prefix());
    assertEquals(TeacherSpec.Pooling.MEAN, s.pooling());
    check("name=e5,preset=e5,weights=" + minilm + ",tokenizer=" + minilmTok, minilm, minilmTok, "query: ", TeacherSpec.Pooling.MEAN);
  }

  @Test
  void bgeNormalisedClsMatchesOnnxRuntime() throws Exception {
    check("name=bge,preset=bge,weights=" + bge + ",tokenizer=" + bgeTok, bge, bgeTok, "", TeacherSpec.Pooling.CLS);
  }

  @Test
  void badSpecsNameTheKey() {
    var e = assertThrows(IllegalArgumentException.class, () -> TeacherSpec.parse("name=x,weights=a.onnx,tokenizer=t.json"));
    assertTrue(e.getMessage().contains("preset=minilm|e5|bge"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> TeacherSpec.parse("name=x,weights=a.onnx,tokenizer=t.json,pooling=max"));
    assertTrue(e.getMessage().contains("'pooling'") && e.getMessage().contains("max"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> TeacherSpec.parse("name=x,model=m.yaml,weights=w,preset=bge"));
    assertTrue(e.getMessage().contains("'preset'"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> TeacherSpec.parse("name=X!,weights=w,model=m"));
    assertTrue(e.getMessage().contains("'name'"), e.getMessage());
  }

  private static void check(String specText, Path onnx, Path tok, String prefix, TeacherSpec.Pooling pooling) throws Exception {
    TeacherSpec spec = TeacherSpec.parse(specText);
    INDArray ours;
    try (BertFeatureTeacher t = BertFeatureTeacher.load(spec, BASE, new PrintStream(new ByteArrayOutputStream()))) {
      ours = t.encode(TEXTS); // one padded batch: padding must not move the result
    }
    double worst = 0;
    try (HuggingFaceTokenizer hf = HuggingFaceTokenizer.newInstance(tok)) {
      for (int b = 0; b < TEXTS.size(); b++) {
        Encoding e = hf.encode(prefix + TEXTS.get(b));
        int n = 0;
        while (n < e.getAttentionMask().length && e.getAttentionMask()[n] == 1) n++;
        float[][] h = runtime(onnx, java.util.Arrays.copyOf(e.getIds(), n), java.util.Arrays.copyOf(e.getTypeIds(), n)); // [L, D]
        double[] v = new double[h[0].length];
        if (pooling == TeacherSpec.Pooling.CLS) {
          for (int d = 0; d < v.length; d++) v[d] = h[0][d];
        } else {
          for (float[] row : h) for (int d = 0; d < v.length; d++) v[d] += row[d] / h.length;
        }
        double norm = 0;
        for (double x : v) norm += x * x;
        norm = Math.sqrt(norm);
        for (int d = 0; d < v.length; d++) worst = Math.max(worst, Math.abs(v[d] / norm - ours.getDouble(b, d)));
      }
    }
    System.out.println(spec.name() + " (" + spec.poolingDescription() + ", prefix '" + prefix + "'): max |ours − ONNX Runtime| = " + worst);
    assertTrue(worst < 1e-5, "max abs diff " + worst);
  }

  /** ONNX Runtime's last hidden state for one unpadded sequence. */
  private static float[][] runtime(Path onnx, long[] ids, long[] types) throws Exception {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession s = env.createSession(onnx.toString(), new OrtSession.SessionOptions())) {
      Map<String, OnnxTensor> in = new HashMap<>();
      long[] mask = new long[ids.length];
      java.util.Arrays.fill(mask, 1);
      for (String name : s.getInputNames()) {
        long[] v = switch (name) {
          case "input_ids" -> ids;
          case "attention_mask" -> mask;
          case "token_type_ids" -> types;
          default -> throw new IllegalStateException(name);
        };
        in.put(name, OnnxTensor.createTensor(env, new long[][] {v}));
      }
      try (OrtSession.Result r = s.run(in)) {
        for (var e : r) {
          Object val = e.getValue().getValue();
          if (val instanceof float[][][] f) return f[0];
        }
        throw new IllegalStateException("no rank-3 output");
      } finally {
        in.values().forEach(OnnxTensor::close);
      }
    }
  }
}
