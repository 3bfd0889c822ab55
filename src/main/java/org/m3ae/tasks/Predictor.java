package org.m3ae.tasks;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.m3ae.data.config.PipelineConfig;
import org.m3ae.data.config.PipelineLoader;
import org.m3ae.data.image.ClipTransform;
import org.m3ae.data.image.ImageDecodeException;
import org.m3ae.data.image.ImageDecoder;
import org.m3ae.data.image.RgbImage;
import org.m3ae.data.text.EncodedText;
import org.m3ae.data.text.TextTokenizer;
import org.m3ae.model.ModelConfig;
import org.m3ae.model.Names;
import org.m3ae.model.OneDeviceArrayHolder;
import org.m3ae.data.text.RobertaIdsGuard;
import org.m3ae.train.RunDir;
import org.m3ae.weights.SameDiffSource;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The clinician-facing API: a fine-tuned VQA (or classification) model answering a question about one image.
 *
 * <pre>{@code
 * try (Predictor p = Predictor.open(Path.of("runs/vqa-rad-student/model.sdz"))) {
 *   for (Predictor.Answer a : p.predict(Path.of("scan.jpg"), "Is there a fracture?", 5))
 *     System.out.printf("%-20s %.3f%n", a.answer(), a.probability());
 * }
 * }</pre>
 *
 * Opens a {@code model.sdz} (the inference graph {@code finetune} saves) or a run directory / fine-tuned
 * {@code .safetensors} (rebuilt from the model config in {@code task.json}); either way {@code task.json} must lie
 * beside it. Images go through the evaluation transform of training (CLIP resize + centre crop + normalise, SPEC
 * §3.4), questions through the same tokenizer at the same length. Probabilities are a softmax over the head's
 * logits: the model is trained with one correct answer per question (SPEC §2.5), so they rank answers; they are not
 * calibrated clinical confidences. Not thread-safe: one instance per thread.
 */
public final class Predictor implements AutoCloseable {
  /** One candidate answer: its text, softmax probability and head index. */
  public record Answer(String answer, double probability, int index) {}

  private final SameDiff sd;
  private final TaskManifest manifest;
  private final TextTokenizer tokenizer;
  private final ClipTransform transform;
  private final String image, ids, mask;

  private Predictor(SameDiff sd, TaskManifest manifest, TextTokenizer tokenizer) {
    this.sd = sd;
    this.manifest = manifest;
    this.tokenizer = tokenizer;
    this.transform = new ClipTransform(manifest.imageSize(), ClipTransform.Kind.CLIP);
    this.image = Names.qualified(TaskGraph.PASS, Names.IMAGE);
    this.ids = Names.qualified(TaskGraph.PASS, Names.TEXT_IDS);
    this.mask = Names.qualified(TaskGraph.PASS, Names.TEXT_MASK);
    if (sd.getVariable(TaskGraph.LOGITS) == null) throw new IllegalArgumentException("the model has no output '" + TaskGraph.LOGITS + "'");
  }

  public static Predictor open(Path model) {
    if (!Files.exists(model)) throw new IllegalArgumentException("model not found: " + model);
    TaskManifest m = TaskManifest.read(model);
    if (m.kind() == TaskKind.RETRIEVAL) throw new IllegalArgumentException(model + ": a retrieval model scores pairs; use evaluate");
    PipelineConfig pc = PipelineLoader.load(Path.of(m.pipeline()));
    TextTokenizer tok = TextTokenizer.load(pc.tokenizer().withMaxLength(m.textLen()));
    try {
      SameDiff sd;
      if (!Files.isDirectory(model) && model.toString().endsWith(".sdz")) {
        sd = OneDeviceArrayHolder.install(SameDiff.load(new File(model.toString()), false)); // drops the copy SameDiff keeps of every weight
        RobertaIdsGuard.checkWeights(new SameDiffSource(sd, model.toString()), tok);
      } else {
        Path weights = Files.isDirectory(model) ? model.resolve(RunDir.WEIGHTS) : model;
        ModelConfig cfg = ModelConfig.load(Path.of(m.modelConfig()));
        TaskGraph g = TaskGraph.inference(cfg, m.kind(), m.labels().size(), m.textLen());
        FinetuneRun.loadInto(g.sd(), weights, tok);
        sd = g.sd();
      }
      return new Predictor(sd, m, tok);
    } catch (RuntimeException e) {
      tok.close();
      throw e;
    }
  }

  public TaskManifest manifest() {
    return manifest;
  }

  /** The top {@code k} answers for a question about an image file (JPEG or PNG). */
  public List<Answer> predict(Path imageFile, String question, int k) {
    RgbImage img;
    try {
      img = ImageDecoder.decode(imageFile);
    } catch (ImageDecodeException e) {
      throw new IllegalArgumentException(imageFile + ": " + e.getMessage(), e);
    }
    return predict(img, question, k);
  }

  public List<Answer> predict(RgbImage img, String question, int k) {
    if (question == null || question.isBlank()) throw new IllegalArgumentException("the question is empty");
    if (k < 1) throw new IllegalArgumentException("k must be ≥ 1, got " + k);
    int s = manifest.imageSize();
    float[] px = transform.apply(img, new java.util.SplittableRandom(0));
    EncodedText t = tokenizer.encode(question);
    Map<String, INDArray> f = new HashMap<>();
    f.put(image, Nd4j.create(px, new long[] {1, 3, s, s}, 'c'));
    f.put(ids, Nd4j.createFromArray(new int[][] {t.ids()}).castTo(DataType.INT32));
    f.put(mask, Nd4j.create(new float[][] {t.mask()}));
    float[] logits = sd.output(f, TaskGraph.LOGITS).get(TaskGraph.LOGITS).reshape(-1).toFloatVector();
    double max = Double.NEGATIVE_INFINITY;
    for (float v : logits) max = Math.max(max, v);
    double sum = 0;
    double[] p = new double[logits.length];
    for (int i = 0; i < p.length; i++) sum += (p[i] = Math.exp(logits[i] - max));
    List<Answer> all = new ArrayList<>();
    for (int i = 0; i < p.length; i++) all.add(new Answer(manifest.labels().get(i), p[i] / sum, i));
    // the same order as the metric's argmax: probability, then the lower index first on ties
    all.sort(Comparator.comparingDouble(Answer::probability).reversed().thenComparingInt(Answer::index));
    return List.copyOf(all.subList(0, Math.min(k, all.size())));
  }

  @Override
  public void close() {
    tokenizer.close();
  }

  /** The CLI's table: rank, answer, probability. */
  public static String toTable(String question, List<Answer> answers) {
    StringBuilder sb = new StringBuilder("Q: ").append(question).append('\n');
    int w = 6;
    for (Answer a : answers) w = Math.max(w, a.answer().length());
    sb.append(String.format("%-4s %-" + w + "s %s%n", "rank", "answer", "probability"));
    int r = 1;
    for (Answer a : answers) sb.append(String.format("%-4d %-" + w + "s %.4f%n", r++, a.answer(), a.probability()));
    return sb.toString();
  }

  /** {"image": ..., "question": ..., "answers": [{"answer": ..., "probability": ...}, ...]} on one line. */
  public static String toJson(Path image, String question, List<Answer> answers) {
    var om = new com.fasterxml.jackson.databind.ObjectMapper();
    var n = om.createObjectNode();
    n.put("image", image.toString());
    n.put("question", question);
    var arr = n.putArray("answers");
    for (Answer a : answers) arr.addObject().put("answer", a.answer()).put("probability", a.probability());
    try {
      return om.writeValueAsString(n) + "\n";
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
