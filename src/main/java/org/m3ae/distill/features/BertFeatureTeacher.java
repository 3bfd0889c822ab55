package org.m3ae.distill.features;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.m3ae.data.pipeline.Batch;
import org.m3ae.model.M3aeGraph;
import org.m3ae.model.M3aeModel;
import org.m3ae.model.ModelConfig;
import org.m3ae.model.Names;
import org.m3ae.train.FeatureKind;
import org.m3ae.weights.LoadReport;
import org.m3ae.weights.TensorSource;
import org.m3ae.weights.TensorSources;
import org.m3ae.weights.TextEncoderInference;
import org.m3ae.weights.WeightLoader;
import org.m3ae.weights.WeightsException;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A BERT-family sentence encoder (all-MiniLM-L6-v2, bge, e5, … from ONNX or safetensors) run by the project's own text
 * encoder, its config inferred from the file ({@link TextEncoderInference}), on the teacher's own tokenizer, pooled as
 * its model card says ({@link TeacherSpec.Preset}). Batches are padded to the next multiple of 16 tokens; each padded
 * length gets a text-only pass of its own over the same weights.
 */
public final class BertFeatureTeacher implements FeatureTeacher {
  private static final int BUCKET = 16;

  private final TeacherSpec spec;
  private final ModelConfig cfg;
  private final M3aeGraph graph;
  private final HuggingFaceTokenizer tokenizer;
  private final Map<Integer, String> outputByLength = new HashMap<>();
  private final int maxLength;

  private BertFeatureTeacher(TeacherSpec spec, ModelConfig cfg, M3aeGraph graph, HuggingFaceTokenizer tokenizer, int maxLength) {
    this.spec = spec;
    this.cfg = cfg;
    this.graph = graph;
    this.tokenizer = tokenizer;
    this.maxLength = maxLength;
  }

  /** @param base vision/fusion around the inferred encoder (only its text encoder is built) */
  public static BertFeatureTeacher load(TeacherSpec spec, ModelConfig base, PrintStream out) {
    var inferred = TextEncoderInference.infer(spec.weights(), base, new TextEncoderInference.Overrides(spec.heads(), spec.lnEps()));
    out.println("teacher " + spec.name() + ": text encoder inferred from " + spec.weights() + ":");
    inferred.notes().forEach(n -> out.println("  " + n));
    ModelConfig cfg = inferred.config();
    // RoBERTa-style positions start after the pad id, so the usable length is shorter than the table
    int usable = cfg.text().positionIds() == ModelConfig.PositionIds.ROBERTA ? cfg.text().maxPositions() - cfg.text().padTokenId() - 1
        : cfg.text().maxPositions();
    int maxLength = Math.min(spec.maxLength(), usable);
    M3aeGraph g = M3aeModel.empty(cfg, org.m3ae.model.BuildOptions.defaults());
    // one pass first so that the weights exist to be loaded; further lengths reuse them
    String first = g.addTextOnlyPass(passName(BUCKET), BUCKET, cfg.text().typeVocabSize() > 1).out().name();
    LoadReport r;
    try (TensorSource src = TensorSources.open(spec.weights())) {
      r = WeightLoader.load(g.sd(), src, TensorSources.keyMapFor(src));
    }
    if (!r.missing().isEmpty()) {
      throw new WeightsException(spec.weights() + ": the inferred text encoder misses " + r.missing().keySet() + " in this file");
    }
    HuggingFaceTokenizer tok;
    try {
      tok = HuggingFaceTokenizer.builder().optTokenizerPath(spec.tokenizer()).optAddSpecialTokens(true).optTruncation(true)
          .optMaxLength(maxLength).optPadding(false).build();
    } catch (IOException e) {
      throw new UncheckedIOException(spec.tokenizer() + ": cannot load tokenizer", e);
    }
    BertFeatureTeacher t = new BertFeatureTeacher(spec, cfg, g, tok, maxLength);
    t.outputByLength.put(BUCKET, first);
    return t;
  }

  private static String passName(int len) {
    return "len" + len;
  }

  public ModelConfig config() {
    return cfg;
  }

  @Override
  public Map<FeatureKind, Integer> dims() {
    return Map.of(FeatureKind.TEXT, cfg.text().encoder().width());
  }

  @Override
  public Map<FeatureKind, INDArray> features(Batch batch, List<String> texts) {
    return Map.of(FeatureKind.TEXT, encode(texts));
  }

  /** Pooled (and, per the spec, normalised) sentence vectors of {@code texts}: [B, D]. */
  public INDArray encode(List<String> texts) {
    int b = texts.size();
    long[][] ids = new long[b][], types = new long[b][];
    int longest = 1;
    for (int i = 0; i < b; i++) {
      Encoding e = tokenizer.encode(spec.prefix() + texts.get(i));
      long[] am = e.getAttentionMask();
      int n = 0;
      while (n < am.length && am[n] == 1) n++; // a tokenizer.json may pad by itself
      n = Math.min(n, maxLength);
      ids[i] = java.util.Arrays.copyOf(e.getIds(), n);
      types[i] = java.util.Arrays.copyOf(e.getTypeIds(), n);
      longest = Math.max(longest, n);
    }
    int len = Math.min(((longest + BUCKET - 1) / BUCKET) * BUCKET, Math.max(longest, maxLength));
    int pad = cfg.text().padTokenId();
    int[] idArr = new int[b * len], typeArr = new int[b * len];
    float[] maskArr = new float[b * len];
    java.util.Arrays.fill(idArr, pad);
    for (int i = 0; i < b; i++) {
      for (int t = 0; t < ids[i].length; t++) {
        idArr[i * len + t] = (int) ids[i][t];
        typeArr[i * len + t] = (int) types[i][t];
        maskArr[i * len + t] = 1f;
      }
    }
    String out = outputByLength.computeIfAbsent(len,
        l -> graph.addTextOnlyPass(passName(l), l, cfg.text().typeVocabSize() > 1).out().name());
    String pass = passName(len) + "/";
    Map<String, INDArray> ph = new HashMap<>();
    ph.put(pass + Names.TEXT_IDS, Nd4j.create(idArr, new long[] {b, len}, DataType.INT32));
    INDArray mask = Nd4j.create(maskArr, new long[] {b, len}, 'c');
    ph.put(pass + Names.TEXT_MASK, mask.castTo(graph.dtype()));
    if (cfg.text().typeVocabSize() > 1) ph.put(pass + Names.TEXT_TYPE_IDS, Nd4j.create(typeArr, new long[] {b, len}, DataType.INT32));
    INDArray h = graph.sd().output(ph, out).get(out).castTo(DataType.FLOAT); // [B, L, D]
    INDArray pooled = pool(h, mask, spec.pooling());
    return spec.normalize() ? normalize(pooled) : pooled;
  }

  /** [B, L, D] → [B, D]: the masked mean over tokens, or token 0. */
  static INDArray pool(INDArray h, INDArray mask, TeacherSpec.Pooling p) {
    if (p == TeacherSpec.Pooling.CLS) return h.get(org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.point(0),
        org.nd4j.linalg.indexing.NDArrayIndex.all()).dup();
    long b = h.size(0), l = h.size(1), d = h.size(2);
    INDArray m = mask.reshape(b, l, 1); //                           [B, L, 1]
    INDArray sum = h.mul(m.broadcast(b, l, d)).sum(1); //            [B, D]
    INDArray count = mask.sum(1).reshape(b, 1); //                   [B, 1]
    return sum.diviColumnVector(Nd4j.getExecutioner().exec(new org.nd4j.linalg.api.ops.impl.scalar.ScalarMax(count, 1e-9)));
  }

  /** Row-wise x / max(‖x‖, 1e-12), as F.normalize. */
  static INDArray normalize(INDArray x) {
    INDArray n = x.norm2(1).reshape(x.size(0), 1);
    return x.divColumnVector(Nd4j.getExecutioner().exec(new org.nd4j.linalg.api.ops.impl.scalar.ScalarMax(n, 1e-12)));
  }

  @Override
  public void close() {
    tokenizer.close();
  }
}
