package org.m3ae.data.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

/** Reads a pipeline YAML; every mistake is reported as {@code file line N: ...} naming the key. */
public final class PipelineLoader {

  private PipelineLoader() {}

  public static PipelineConfig load(Path file) {
    if (!Files.isRegularFile(file)) throw new IllegalArgumentException("pipeline file not found: " + file);
    ObjectMapper om =
        new ObjectMapper(new YAMLFactory())
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            ;
    try {
      PipelineConfig c = om.readValue(file.toFile(), PipelineConfig.class);
      validate(c, file);
      return c;
    } catch (UnrecognizedPropertyException e) {
      if (path(e).equals("tokenizer.gpt2_to_roberta")) {
        // the removed mode: GPT-2 ids shifted by 4 segment like RoBERTa but index the wrong embedding rows
        throw new IllegalArgumentException(whereKey(file, e) + "key 'tokenizer.gpt2_to_roberta' was removed: GPT-2 ids shifted "
            + "by 4 do not index roberta-base's embeddings. Delete the key and set tokenizer.file to roberta-base's own "
            + "tokenizer.json (e.g. ../shared/data/tokenizers/roberta-base.tokenizer.json)");
      }
      String known = e.getKnownPropertyIds() == null ? "" : e.getKnownPropertyIds().stream().map(Object::toString).sorted().collect(Collectors.joining(", "));
      throw new IllegalArgumentException(whereKey(file, e) + "unknown key '" + path(e) + "' (known keys here: " + known + ")");
    } catch (InvalidFormatException e) {
      throw new IllegalArgumentException(whereKey(file, e) + "bad value '" + e.getValue() + "' for key '" + path(e) + "'" + allowed(e));
    } catch (MismatchedInputException e) {
      String msg = e.getOriginalMessage();
      if (msg.startsWith("Missing required creator property")) {
        String key = msg.replaceAll(".*'([^']*)'.*", "$1");
        String parent = path(e);
        throw new IllegalArgumentException(file + ": missing key '" + (parent.isEmpty() ? key : parent.endsWith(key) ? parent : parent + "." + key) + "'");
      }
      throw new IllegalArgumentException(whereKey(file, e) + "wrong type for key '" + path(e) + "': " + firstLine(msg));
    } catch (JsonMappingException e) {
      Throwable root = e.getCause() != null ? e.getCause() : e;
      throw new IllegalArgumentException(where(file, e) + "key '" + path(e) + "': " + firstLine(root.getMessage()));
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(file + " line " + (e.getLocation() == null ? "?" : e.getLocation().getLineNr()) + ": invalid YAML: " + firstLine(e.getOriginalMessage()));
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  private static void validate(PipelineConfig c, Path file) {
    if (c.splits().isEmpty()) throw new IllegalArgumentException(file + ": key 'splits' names no split");
    if (!c.fields().containsKey("image")) throw new IllegalArgumentException(file + ": missing key 'fields.image'");
    if (!c.fields().containsKey("text")) throw new IllegalArgumentException(file + ": missing key 'fields.text'");
    if (c.task() == PipelineConfig.Task.VQA && !c.fields().containsKey("answer"))
      throw new IllegalArgumentException(file + ": task vqa needs key 'fields.answer'");
    if (c.task() == PipelineConfig.Task.CLASSIFICATION && !c.fields().containsKey("label"))
      throw new IllegalArgumentException(file + ": task classification needs key 'fields.label'");
    if (c.format() == PipelineConfig.Format.DELIMITED && c.delimited() == null)
      throw new IllegalArgumentException(file + ": format delimited needs key 'delimited'");
    for (String k : c.fields().keySet())
      if (!java.util.Set.of("id", "image", "text", "answer", "answer_type", "label", "group").contains(k))
        throw new IllegalArgumentException(file + ": unknown key 'fields." + k + "' (known keys here: answer, answer_type, group, id, image, label, text)");
    if (c.vqa() != null && c.vqa().vocabSplits() != null)
      for (String s : c.vqa().vocabSplits())
        if (!c.splits().containsKey(s)) throw new IllegalArgumentException(file + ": key 'vqa.vocab_splits' names unknown split '" + s + "'");
    c.image().transformFor("default");
  }

  private static String allowed(InvalidFormatException e) {
    Class<?> t = e.getTargetType();
    if (t == null || !t.isEnum()) return "";
    return " (allowed: " + java.util.Arrays.stream(t.getEnumConstants()).map(c -> c.toString().toLowerCase(java.util.Locale.ROOT)).collect(Collectors.joining(", ")) + ")";
  }

  /**
   * Jackson buffers record properties, so its location can point past the offending key; the line
   * that names the key (first match, in document order) is what a user needs.
   */
  private static String whereKey(Path file, JsonMappingException e) {
    if (e.getPath().isEmpty() || e.getPath().get(e.getPath().size() - 1).getFieldName() == null) return where(file, e);
    String key = e.getPath().get(e.getPath().size() - 1).getFieldName();
    java.util.regex.Pattern p = java.util.regex.Pattern.compile("(^|[\\s{,])" + java.util.regex.Pattern.quote(key) + "\\s*:");
    try {
      List<String> lines = Files.readAllLines(file);
      for (int i = 0; i < lines.size(); i++) if (p.matcher(lines.get(i).replaceAll("#.*", "")).find()) return file + " line " + (i + 1) + ": ";
    } catch (IOException ignored) {
      // fall back to Jackson's location
    }
    return where(file, e);
  }

  private static String where(Path file, JsonMappingException e) {
    return file + (e.getLocation() == null ? ": " : " line " + e.getLocation().getLineNr() + ": ");
  }

  private static String path(JsonMappingException e) {
    return e.getPath().stream().map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]").collect(Collectors.joining(".")).replace(".[", "[");
  }

  private static String firstLine(String s) {
    if (s == null) return "";
    int i = s.indexOf('\n');
    return i < 0 ? s : s.substring(0, i);
  }
}
