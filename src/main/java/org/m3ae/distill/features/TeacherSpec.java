package org.m3ae.distill.features;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * One {@code --teacher} of {@code extract-features}: comma-separated {@code key=value} pairs.
 * <ul>
 *   <li>a BERT-family text encoder ({@code .onnx}, safetensors or {@code .bin}; its config inferred from the file as
 *       {@code verify-onnx} does): {@code name=minilm,weights=all-minilm-l6-v2.onnx,tokenizer=tokenizer.json,preset=minilm}
 *       — {@code preset} sets pooling, normalisation and prefix as the model card says; or give {@code pooling=mean|cls},
 *       {@code normalize=true|false}, {@code prefix=...} yourself; optional {@code max_length}, {@code heads},
 *       {@code ln_eps};
 *   <li>an M3AE-family model: {@code name=teacher,model=configs/models/synth-teacher.yaml,weights=model.safetensors}:
 *       pooled text, pooled image and joint features on the pipeline's own tokens and images.
 * </ul>
 */
public record TeacherSpec(String name, Family family, Path weights, Path tokenizer, Path model, Pooling pooling,
    boolean normalize, String prefix, int maxLength, Integer heads, Double lnEps) {

  public enum Family {
    @JsonProperty("bert") BERT,
    @JsonProperty("m3ae") M3AE
  }

  /** How a BERT-family encoder's last hidden state becomes one vector. */
  public enum Pooling {
    /** Mean over real tokens (attention mask): sentence-transformers' MiniLM, e5. */
    MEAN,
    /** The first token, [CLS]: bge. */
    CLS
  }

  /**
   * Pooling as each model card prescribes. all-MiniLM-L6-v2: mean pooling, then F.normalize. e5-*-v2: average_pool,
   * normalised, every input prefixed "query: " or "passage: " — "query: " when the embeddings are used as features
   * (the card's advice for linear probing and clustering, what a distillation target is). bge-*-v1.5: CLS, normalised;
   * captions are passages, which take no instruction.
   */
  public enum Preset {
    MINILM(Pooling.MEAN, true, ""),
    E5(Pooling.MEAN, true, "query: "),
    BGE(Pooling.CLS, true, "");

    final Pooling pooling;
    final boolean normalize;
    final String prefix;

    Preset(Pooling pooling, boolean normalize, String prefix) {
      this.pooling = pooling;
      this.normalize = normalize;
      this.prefix = prefix;
    }
  }

  private static final Set<String> KEYS = Set.of("name", "weights", "tokenizer", "model", "preset", "pooling", "normalize",
      "prefix", "max_length", "heads", "ln_eps");

  public static TeacherSpec parse(String spec) {
    Map<String, String> kv = new LinkedHashMap<>();
    for (String part : spec.split(",")) {
      int eq = part.indexOf('=');
      if (eq <= 0) throw new IllegalArgumentException("--teacher '" + spec + "': '" + part + "' is not key=value");
      String k = part.substring(0, eq).trim();
      if (!KEYS.contains(k)) throw new IllegalArgumentException("--teacher '" + spec + "': unknown key '" + k + "' (" + KEYS + ")");
      if (kv.put(k, part.substring(eq + 1)) != null) throw new IllegalArgumentException("--teacher '" + spec + "': key '" + k + "' given twice");
    }
    String name = require(kv, "name", spec);
    if (!name.matches("[a-z0-9_]+")) throw new IllegalArgumentException("--teacher '" + spec + "': key 'name': '" + name + "' must match [a-z0-9_]+");
    Path weights = Path.of(require(kv, "weights", spec));
    if (kv.containsKey("model")) {
      for (String k : kv.keySet()) {
        if (!Set.of("name", "weights", "model").contains(k)) {
          throw new IllegalArgumentException("--teacher '" + spec + "': key '" + k + "' is for BERT-family encoders; an M3AE teacher takes name, model, weights");
        }
      }
      return new TeacherSpec(name, Family.M3AE, weights, null, Path.of(kv.get("model")), null, false, "", 0, null, null);
    }
    Path tokenizer = Path.of(require(kv, "tokenizer", spec));
    Preset preset = kv.containsKey("preset") ? parseEnum(Preset.class, kv.get("preset"), "preset", spec) : null;
    if (preset == null && !kv.containsKey("pooling")) {
      throw new IllegalArgumentException("--teacher '" + spec + "': give preset=minilm|e5|bge or pooling=mean|cls (as the model card says)");
    }
    Pooling pooling = kv.containsKey("pooling") ? parseEnum(Pooling.class, kv.get("pooling"), "pooling", spec) : preset.pooling;
    boolean normalize = kv.containsKey("normalize") ? parseBool(kv.get("normalize"), spec) : preset == null || preset.normalize;
    String prefix = kv.containsKey("prefix") ? kv.get("prefix") : preset == null ? "" : preset.prefix;
    int maxLength = kv.containsKey("max_length") ? Integer.parseInt(kv.get("max_length")) : 128;
    if (maxLength < 2) throw new IllegalArgumentException("--teacher '" + spec + "': key 'max_length' must be >= 2");
    Integer heads = kv.containsKey("heads") ? Integer.valueOf(kv.get("heads")) : null;
    Double eps = kv.containsKey("ln_eps") ? Double.valueOf(kv.get("ln_eps")) : null;
    return new TeacherSpec(name, Family.BERT, weights, tokenizer, null, pooling, normalize, prefix, maxLength, heads, eps);
  }

  /** For the manifest: how a vector was made. */
  public String poolingDescription() {
    if (family == Family.M3AE) return "m3ae: text = pooled.text, image = pooled.image (fusion poolers, tanh), joint = text ‖ image";
    return pooling.name().toLowerCase(Locale.ROOT) + (normalize ? ", l2-normalised" : "");
  }

  private static String require(Map<String, String> kv, String k, String spec) {
    String v = kv.get(k);
    if (v == null || v.isEmpty()) throw new IllegalArgumentException("--teacher '" + spec + "': key '" + k + "' is required");
    return v;
  }

  private static boolean parseBool(String v, String spec) {
    if (v.equals("true")) return true;
    if (v.equals("false")) return false;
    throw new IllegalArgumentException("--teacher '" + spec + "': key 'normalize': true or false, got '" + v + "'");
  }

  private static <E extends Enum<E>> E parseEnum(Class<E> c, String v, String key, String spec) {
    for (E e : c.getEnumConstants()) if (e.name().equalsIgnoreCase(v)) return e;
    throw new IllegalArgumentException("--teacher '" + spec + "': key '" + key + "': '" + v + "' is not one of "
        + java.util.Arrays.stream(c.getEnumConstants()).map(e -> e.name().toLowerCase(Locale.ROOT)).toList());
  }
}
