package org.m3ae.model;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.Parameter;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/** Reads and validates model configs; every error names the file, the line and the dotted key. */
public final class ModelConfigLoader {
  private ModelConfigLoader() {}

  static final ObjectMapper YAML =
      new ObjectMapper(new YAMLFactory())
          .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          // Keys marked required fail when missing; optional ones (dropout rates, run-config defaults) may be left out.
          .disable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES)
          .enable(DeserializationFeature.FAIL_ON_NUMBERS_FOR_ENUMS)
          .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT);

  public static ModelConfig load(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      return parse(in.readAllBytes(), file.toString());
    } catch (NoSuchFileException e) {
      throw new ConfigException(file + ": model config not found");
    } catch (IOException e) {
      throw new ConfigException(file + ": cannot read model config: " + e.getMessage(), e);
    }
  }

  /** Parses a model config; {@code source} names it in errors (a path or a resource name). */
  public static ModelConfig parse(byte[] yaml, String source) {
    ModelConfig cfg = read(yaml, source, ModelConfig.class);
    validate(cfg, source);
    return cfg;
  }

  /** Reads any record-typed YAML config with the same error reporting (file, line, dotted key). */
  public static <T> T read(Path file, Class<T> type) {
    try {
      return read(Files.readAllBytes(file), file.toString(), type);
    } catch (NoSuchFileException e) {
      throw new ConfigException(file + ": config not found");
    } catch (IOException e) {
      throw new ConfigException(file + ": cannot read config: " + e.getMessage(), e);
    }
  }

  public static <T> T read(byte[] yaml, String source, Class<T> type) {
    T cfg;
    try {
      cfg = YAML.readValue(yaml, type);
    } catch (JsonMappingException e) {
      // Jackson reports a missing key before an unknown one; a misspelt key is the likelier cause, so look first.
      findUnknownKey(yaml, source, type);
      throw new ConfigException(describe(source, e), e);
    } catch (JsonProcessingException e) {
      throw new ConfigException(source + at(e.getLocation()) + ": not valid YAML: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new ConfigException(source + ": cannot read config: " + e.getMessage(), e);
    }
    if (cfg == null) throw new ConfigException(source + ": empty config");
    return cfg;
  }

  private static String describe(String source, JsonMappingException e) {
    String key =
        e.getPath().stream()
            .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
            .collect(Collectors.joining("."))
            .replace(".[", "[");
    String where = source + at(e.getLocation());
    if (e instanceof UnrecognizedPropertyException u) {
      List<String> known = new ArrayList<>();
      u.getKnownPropertyIds().forEach(o -> known.add(String.valueOf(o)));
      known.sort(null);
      return where + ": unknown key '" + key + "' (known here: " + String.join(", ", known) + ")";
    }
    String msg = e.getOriginalMessage();
    if (msg.startsWith("Missing required creator property")) {
      int q1 = msg.indexOf('\''), q2 = msg.indexOf('\'', q1 + 1);
      String missing = q1 >= 0 && q2 > q1 ? msg.substring(q1 + 1, q2) : "?";
      String full = key.isEmpty() ? missing : key.endsWith("." + missing) || key.equals(missing) ? key : key + "." + missing;
      return where + ": missing key '" + full + "'";
    }
    if (msg.contains("null value for creator property") || msg.contains("Cannot map `null`")) {
      return where + ": key '" + key + "' has no value";
    }
    int nl = msg.indexOf('\n');
    return where + ": bad value for key '" + key + "': " + (nl > 0 ? msg.substring(0, nl) : msg);
  }

  /** Walks the YAML token stream against the record types and throws on the first key no record declares. */
  static void findUnknownKey(byte[] yaml, String source, Class<?> root) {
    try (JsonParser p = YAML.getFactory().createParser(yaml)) {
      if (p.nextToken() == JsonToken.START_OBJECT) walk(p, root, "", source);
    } catch (IOException ignored) {
      // syntax errors are reported by the binding step
    }
  }

  private static void walk(JsonParser p, Class<?> type, String path, String source) throws IOException {
    Map<String, Type> fields = keys(type);
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      String key = path.isEmpty() ? name : path + "." + name;
      Type child = fields.get(name);
      if (child == null) {
        throw new ConfigException(source + at(p.currentLocation()) + ": unknown key '" + key + "' (known here: "
            + String.join(", ", fields.keySet()) + ")");
      }
      JsonToken t = p.nextToken();
      Class<?> raw = raw(child);
      Class<?> enumKeys = enumKeys(child);
      if (raw.isRecord() && t == JsonToken.START_OBJECT) walk(p, raw, key, source);
      else if (enumKeys != null && t == JsonToken.START_OBJECT) walkEnumKeys(p, enumKeys, key, source);
      else p.skipChildren();
    }
  }

  /**
   * The YAML keys of a record and their types: its components, or where the record is read through an explicit
   * {@link JsonCreator} (flat keys that the record groups into sub-records), that creator's parameters.
   */
  private static Map<String, Type> keys(Class<?> type) {
    Map<String, Type> fields = new TreeMap<>();
    for (Constructor<?> c : type.getDeclaredConstructors()) {
      if (!c.isAnnotationPresent(JsonCreator.class)) continue;
      for (Parameter q : c.getParameters()) {
        JsonProperty jp = q.getAnnotation(JsonProperty.class);
        fields.put(jp != null && !jp.value().isEmpty() ? jp.value() : q.getName(), q.getParameterizedType());
      }
      return fields;
    }
    for (RecordComponent rc : type.getRecordComponents()) {
      JsonProperty jp = rc.getAccessor().getAnnotation(JsonProperty.class);
      fields.put(jp != null && !jp.value().isEmpty() ? jp.value() : rc.getName(), rc.getGenericType());
    }
    return fields;
  }

  /** A map keyed by an enum (e.g. {@code lr_multipliers}): each key must be one of the enum's YAML names. */
  private static void walkEnumKeys(JsonParser p, Class<?> keyType, String path, String source) throws IOException {
    Map<String, Type> names = new TreeMap<>();
    for (Field f : keyType.getFields()) {
      if (!f.isEnumConstant()) continue;
      JsonProperty jp = f.getAnnotation(JsonProperty.class);
      names.put(jp != null && !jp.value().isEmpty() ? jp.value() : f.getName(), keyType);
    }
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      if (!names.containsKey(p.currentName())) {
        throw new ConfigException(source + at(p.currentLocation()) + ": unknown key '" + path + "." + p.currentName()
            + "' (known here: " + String.join(", ", names.keySet()) + ")");
      }
      p.nextToken();
      p.skipChildren();
    }
  }

  private static Class<?> raw(Type t) {
    if (t instanceof Class<?> c) return c;
    if (t instanceof ParameterizedType pt && pt.getRawType() instanceof Class<?> c) return c;
    return Object.class;
  }

  /** The key type of a {@code Map<E, …>} with an enum E, else null. */
  private static Class<?> enumKeys(Type t) {
    if (!(t instanceof ParameterizedType pt) || !Map.class.isAssignableFrom(raw(pt))) return null;
    Class<?> k = raw(pt.getActualTypeArguments()[0]);
    return k.isEnum() ? k : null;
  }

  private static String at(JsonLocation loc) {
    return loc == null || loc.getLineNr() < 1 ? "" : ":" + loc.getLineNr() + ":" + loc.getColumnNr();
  }

  /** Range and consistency checks Jackson cannot express. */
  static void validate(ModelConfig c, String src) {
    Checks k = new Checks(src);
    k.notBlank("name", c.name());
    var v = c.vision();
    k.positive("vision.image_size", v.imageSize());
    k.positive("vision.patch_size", v.patchSize());
    k.positive("vision.channels", v.channels());
    if (v.patchSize() > 0 && v.imageSize() % v.patchSize() != 0) {
      k.fail("vision.image_size", v.imageSize() + " is not a multiple of vision.patch_size " + v.patchSize());
    }
    blocks(k, "vision.encoder", v.encoder());
    var t = c.text();
    k.positive("text.vocab_size", t.vocabSize());
    k.positive("text.max_positions", t.maxPositions());
    k.positive("text.type_vocab_size", t.typeVocabSize());
    k.positive("text.max_text_len", t.maxTextLen());
    if (t.padTokenId() < 0 || t.padTokenId() >= t.vocabSize()) {
      k.fail("text.pad_token_id", t.padTokenId() + " is outside the vocabulary [0, " + t.vocabSize() + ")");
    }
    int needed = t.positionIds() == ModelConfig.PositionIds.ROBERTA ? t.maxTextLen() + t.padTokenId() + 1 : t.maxTextLen();
    if (t.maxPositions() < needed) {
      k.fail("text.max_positions", t.maxPositions() + " positions cannot hold max_text_len " + t.maxTextLen()
          + " (needs " + needed + " with " + t.positionIds().name().toLowerCase() + " position ids)");
    }
    blocks(k, "text.encoder", t.encoder());
    var f = c.fusion();
    k.positive("fusion.width", f.width());
    k.nonNegative("fusion.layers", f.layers());
    k.positive("fusion.heads", f.heads());
    k.positive("fusion.mlp_dim", f.mlpDim());
    k.positive("fusion.ln_eps", f.lnEps());
    k.probability("fusion.hidden_dropout", f.hiddenDropout());
    k.probability("fusion.attention_dropout", f.attentionDropout());
    if (f.heads() > 0 && f.width() % f.heads() != 0) {
      k.fail("fusion.heads", f.heads() + " does not divide fusion.width " + f.width());
    }
    if (f.modalityTypes() < 2) k.fail("fusion.modality_types", "needs at least 2 (text = 0, image = 1)");
    var m = c.mim();
    if (m.layer() < -1 || m.layer() > f.layers()) {
      k.fail("mim.layer", m.layer() + " is not in [-1, fusion.layers = " + f.layers() + "]");
    }
    if (!(m.maskRatio() > 0 && m.maskRatio() < 1)) k.fail("mim.mask_ratio", m.maskRatio() + " is not in (0, 1)");
    else if (c.mimKeep() < 1) k.fail("mim.mask_ratio", m.maskRatio() + " leaves no visible patch");
    blocks(k, "mim.decoder", m.decoder());
    k.positive("mlm.ln_eps", c.mlm().lnEps());
    if (c.itm().classes() < 2) k.fail("itm.classes", "needs at least 2");
    k.positive("init.std", c.init().std());
  }

  private static void blocks(Checks k, String p, ModelConfig.Blocks b) {
    k.positive(p + ".width", b.width());
    k.nonNegative(p + ".layers", b.layers());
    k.positive(p + ".heads", b.heads());
    k.positive(p + ".mlp_dim", b.mlpDim());
    k.positive(p + ".ln_eps", b.lnEps());
    k.probability(p + ".hidden_dropout", b.hiddenDropout());
    k.probability(p + ".attention_dropout", b.attentionDropout());
    if (b.heads() > 0 && b.width() % b.heads() != 0) {
      k.fail(p + ".heads", b.heads() + " does not divide " + p + ".width " + b.width());
    }
  }

  private record Checks(String src) {
    void fail(String key, String why) {
      throw new ConfigException(src + ": key '" + key + "': " + why);
    }

    void positive(String key, double v) {
      if (!(v > 0)) fail(key, "must be > 0, got " + v);
    }

    void nonNegative(String key, int v) {
      if (v < 0) fail(key, "must be >= 0, got " + v);
    }

    void probability(String key, double v) {
      if (!(v >= 0 && v < 1)) fail(key, "must be in [0, 1), got " + v);
    }

    void notBlank(String key, String v) {
      if (v == null || v.isBlank()) fail(key, "must not be empty");
    }
  }
}
