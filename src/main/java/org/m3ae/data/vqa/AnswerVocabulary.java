package org.m3ae.data.vqa;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.m3ae.data.DataRecord;

/**
 * Closed-set VQA answers (SPEC §2.5, §3.2): index {@code i} is output {@code i} of the VQA head.
 * Answers are sorted so the vocabulary does not depend on file order. {@code splits} records which
 * splits built it (M3AE: train+val+test; a train-only vocabulary is the honest alternative).
 */
public final class AnswerVocabulary {

  private final List<String> answers;
  private final List<String> splits;
  private final Map<String, Integer> index = new LinkedHashMap<>();

  public AnswerVocabulary(List<String> answers, List<String> splits) {
    this.answers = List.copyOf(answers);
    this.splits = List.copyOf(splits);
    for (int i = 0; i < this.answers.size(); i++) index.put(this.answers.get(i), i);
  }

  public List<String> answers() {
    return answers;
  }

  public List<String> splits() {
    return splits;
  }

  public static AnswerVocabulary build(Collection<DataRecord> records, List<String> splits) {
    TreeSet<String> s = new TreeSet<>();
    for (DataRecord r : records) if (r.answer() != null) s.add(r.answer());
    return new AnswerVocabulary(List.copyOf(s), List.copyOf(splits));
  }

  public int size() {
    return answers.size();
  }

  /** Index of an already normalised answer, or -1. */
  public int indexOf(String answer) {
    return index.getOrDefault(answer, -1);
  }

  public Map<String, Integer> asMap() {
    return java.util.Collections.unmodifiableMap(index);
  }

  public void write(Path file) throws IOException {
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("splits", splits);
    doc.put("answers", new ArrayList<>(answers));
    new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), doc);
  }

  @SuppressWarnings("unchecked")
  public static AnswerVocabulary read(Path file) throws IOException {
    Map<String, Object> doc = new ObjectMapper().readValue(file.toFile(), Map.class);
    return new AnswerVocabulary((List<String>) doc.get("answers"), (List<String>) doc.get("splits"));
  }
}
