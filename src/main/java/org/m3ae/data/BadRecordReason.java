package org.m3ae.data;

/** Why a record was rejected; the keys of a skip report. */
public enum BadRecordReason {
  MISSING_IMAGE("missing image"),
  CORRUPT_IMAGE("corrupt or truncated image"),
  UNSUPPORTED_IMAGE_FORMAT("unsupported image format"),
  EMPTY_TEXT("empty or whitespace-only text"),
  MALFORMED_RECORD("malformed record"),
  MISSING_FIELD("missing field"),
  ANSWER_NOT_IN_VOCABULARY("answer not in vocabulary"),
  FILTERED("filtered by the pipeline (language, minimum words)");

  private final String label;

  BadRecordReason(String label) {
    this.label = label;
  }

  public String label() {
    return label;
  }
}
