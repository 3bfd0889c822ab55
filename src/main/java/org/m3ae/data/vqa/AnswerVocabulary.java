package org.m3ae.data.vqa;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.m3ae.data.DataRecord;

/**
 * Closed-set VQA answers (SPEC §2.5, §3.2): index {@code i} is output {@code i} of the VQA head.
 * {@link AnswerOrder} decides the numbering: sorted (independent of file order) or the official first appearance
 * (what a released M3AE head was trained with). {@code splits} records which splits built it (M3AE:
 * train+val+test; a train-only vocabulary is the honest alternative).
 */
public final class AnswerVocabulary {

  private final List<String> answers;
  private final List<String> splits;
  private final AnswerOrder order;
  private final Map<String, Integer> index = new LinkedHashMap<>();

  public AnswerVocabulary(List<String> answers, List<String> splits, AnswerOrder order) {
    this.answers = List.copyOf(answers);
    this.splits = List.copyOf(splits);
    this.order = order;
    for (int i = 0; i < this.answers.size(); i++) {
      if (index.put(this.answers.get(i), i) != null) throw new IllegalArgumentException("answer '" + this.answers.get(i) + "' appears twice in the vocabulary");
    }
  }

  public List<String> answers() {
    return answers;
  }

  public List<String> splits() {
    return splits;
  }

  public AnswerOrder order() {
    return order;
  }

  /**
   * @param records the questions of {@code splits}, in split order and file order within a split (first appearance
   *     depends on it)
   */
  public static AnswerVocabulary build(Collection<DataRecord> records, List<String> splits, AnswerOrder order) {
    Set<String> s = order == AnswerOrder.SORTED ? new TreeSet<>() : new LinkedHashSet<>();
    for (DataRecord r : records) if (r.answer() != null) s.add(r.answer());
    return new AnswerVocabulary(List.copyOf(s), List.copyOf(splits), order);
  }

  /**
   * This vocabulary numbered as {@code reference} numbers the same answers. A carved validation share re-partitions
   * train, so first appearance over the carved splits is not first appearance over the files; the numbering is taken
   * from the uncarved pipeline instead. The answer sets must agree (carving neither adds nor drops a question).
   */
  public AnswerVocabulary numberedAs(AnswerVocabulary reference) {
    if (!new HashSet<>(answers).equals(new HashSet<>(reference.answers))) {
      Set<String> extra = new TreeSet<>(answers);
      extra.removeAll(reference.answers);
      Set<String> missing = new TreeSet<>(reference.answers);
      missing.removeAll(answers);
      throw new IllegalStateException("answer sets differ (" + answers.size() + " vs " + reference.size() + "): only here " + extra
          + ", only in the reference " + missing);
    }
    return new AnswerVocabulary(reference.answers, splits, reference.order);
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
    doc.put("order", order.id());
    doc.put("answers", new ArrayList<>(answers));
    new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), doc);
  }

  @SuppressWarnings("unchecked")
  public static AnswerVocabulary read(Path file) throws IOException {
    Map<String, Object> doc = new ObjectMapper().readValue(file.toFile(), Map.class);
    // files written before the order was recorded were always sorted
    Object o = doc.getOrDefault("order", AnswerOrder.SORTED.id());
    AnswerOrder order;
    try {
      order = AnswerOrder.valueOf(String.valueOf(o).toUpperCase(java.util.Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IOException(file + ": key 'order': unknown answer order '" + o + "' (allowed: sorted, first_appearance)");
    }
    return new AnswerVocabulary((List<String>) doc.get("answers"), (List<String>) doc.get("splits"), order);
  }
}
