package org.m3ae.ablate;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.m3ae.model.ConfigException;

/**
 * Config files as Jackson trees: read, deep-merged with a grid's overrides, written back as YAML and then parsed by
 * the config's own loader — so every key that loader knows can be overridden, and an unknown one fails with its error.
 */
public final class ConfigTree {
  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory()
      .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
      .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
      .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS));

  /** {@code ${shared.NAME}}: the weights of shared run NAME. */
  static final Pattern SHARED_REF = Pattern.compile("\\$\\{shared\\.([A-Za-z0-9_-]+)}");

  private ConfigTree() {}

  /** The YAML mapping in {@code file}. */
  public static ObjectNode read(Path file) {
    try {
      JsonNode n = YAML.readTree(Files.readAllBytes(file));
      if (n == null || !n.isObject()) throw new ConfigException(file + ": not a YAML mapping");
      return (ObjectNode) n;
    } catch (NoSuchFileException e) {
      throw new ConfigException(file + ": config not found");
    } catch (JsonProcessingException e) {
      throw new ConfigException(file + ": not valid YAML: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  /**
   * Merges {@code over} into {@code base} in place: a mapping merges key by key, recursively; anything else (a value,
   * a list, null) replaces what was there. A key with dots ({@code train.seed}) stands for nested mappings.
   *
   * @return base
   */
  public static ObjectNode merge(ObjectNode base, JsonNode over) {
    if (over == null || over.isNull()) return base;
    if (!over.isObject()) throw new IllegalArgumentException("overrides must be a mapping, got " + over.getNodeType());
    Iterator<Map.Entry<String, JsonNode>> it = over.fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      String[] path = e.getKey().split("\\.", -1);
      ObjectNode at = base;
      for (int i = 0; i < path.length - 1; i++) {
        JsonNode child = at.get(path[i]);
        if (child == null || !child.isObject()) child = at.putObject(path[i]);
        at = (ObjectNode) child;
      }
      String key = path[path.length - 1];
      JsonNode value = e.getValue();
      JsonNode old = at.get(key);
      if (value.isObject() && old != null && old.isObject()) merge((ObjectNode) old, value);
      else at.set(key, value.deepCopy());
    }
    return base;
  }

  /**
   * Replaces every string value that is exactly {@code ${shared.NAME}} by {@code resolve(NAME)}; a reference inside
   * a longer string, or to a name {@code resolve} does not know (it returns null), is an error naming its key.
   */
  public static void resolveShared(ObjectNode tree, Function<String, String> resolve, String where) {
    resolve(tree, "", resolve, where);
  }

  private static void resolve(JsonNode n, String key, Function<String, String> resolve, String where) {
    if (n.isObject()) {
      List<String> names = new ArrayList<>();
      n.fieldNames().forEachRemaining(names::add);
      for (String k : names) {
        JsonNode c = n.get(k);
        String ck = key.isEmpty() ? k : key + "." + k;
        if (c.isTextual()) {
          String r = substitute(c.asText(), ck, resolve, where);
          if (r != null) ((ObjectNode) n).set(k, TextNode.valueOf(r));
        } else {
          resolve(c, ck, resolve, where);
        }
      }
    } else if (n.isArray()) {
      for (int i = 0; i < n.size(); i++) {
        JsonNode c = n.get(i);
        String ck = key + "[" + i + "]";
        if (c.isTextual()) {
          String r = substitute(c.asText(), ck, resolve, where);
          if (r != null) ((com.fasterxml.jackson.databind.node.ArrayNode) n).set(i, TextNode.valueOf(r));
        } else {
          resolve(c, ck, resolve, where);
        }
      }
    }
  }

  private static String substitute(String s, String key, Function<String, String> resolve, String where) {
    if (!s.contains("${")) return null;
    Matcher m = SHARED_REF.matcher(s);
    if (!m.matches()) {
      throw new ConfigException(where + ": key '" + key + "': '" + s + "' — a reference must be the whole value, ${shared.NAME}");
    }
    String r = resolve.apply(m.group(1));
    if (r == null) throw new ConfigException(where + ": key '" + key + "': no shared run '" + m.group(1) + "'");
    return r;
  }

  /** The tree as YAML text. */
  public static String yaml(ObjectNode tree) {
    try {
      return YAML.writeValueAsString(tree);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Any config record as a tree (its JSON property names), for merging. */
  public static ObjectNode tree(Object config) {
    return new ObjectMapper().valueToTree(config);
  }

  public static ObjectNode empty() {
    return JsonNodeFactory.instance.objectNode();
  }

  /**
   * Writes {@code tree} to {@code file} and parses it with {@code loader}; the loader's error (file, line, key) is
   * rethrown after {@code context} (grid file and variant). When the run that reads the file has {@code started}, a
   * file already there with other content is an error instead: that run was set up from a different grid, and resuming
   * it would mix two configs in one result.
   */
  public static <T> T writeAndLoad(ObjectNode tree, Path file, Function<Path, T> loader, String context, boolean started) {
    String text = yaml(tree);
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      // compared as trees: key order is not content (Map.of's iteration order changes from one JVM to the next)
      JsonNode old = Files.exists(file) ? YAML.readTree(Files.readAllBytes(file)) : null;
      boolean same = YAML.readTree(text).equals(old); // both read from YAML: the same number types
      if (old != null && !same && started) {
        throw new ConfigException(context + ": " + file + " holds the config of a run already started from a different "
            + "grid (the merged config differs); use another --out or delete " + file.getParent());
      }
      if (!same) {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, text);
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
    try {
      return loader.apply(file);
    } catch (ConfigException e) {
      throw new ConfigException(context + ": " + e.getMessage(), e);
    }
  }
}
