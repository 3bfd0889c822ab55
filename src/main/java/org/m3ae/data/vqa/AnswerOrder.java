package org.m3ae.data.vqa;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * How answers are numbered, i.e. which column of the VQA head names which answer. The numbering is not stored in a
 * checkpoint, so a head trained under one order is scored wrongly under the other.
 */
public enum AnswerOrder {
  /** Alphabetical: the vocabulary does not depend on file order. This project's numbering before the switch existed. */
  @JsonProperty("sorted") SORTED,
  /**
   * The official M3AE numbering ({@code prepro/make_arrow.py}, {@code make_arrow_vqa}): normalised answers in order of
   * first appearance over the questions of train, then val, then test, in file order ({@code Counter} keeps insertion
   * order, and {@code ans2label} enumerates its keys). Released fine-tuned VQA heads use it.
   */
  @JsonProperty("first_appearance") FIRST_APPEARANCE;

  /** The key's value in YAML, for messages. */
  public String id() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
