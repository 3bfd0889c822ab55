package org.m3ae.data.readers;

/** One source row before interpretation: field lookup by name (dot path for JSON) and its location. */
interface RawRow {
  /** The field's text, or null when absent (JSON null counts as absent). */
  String get(String field);

  String location();
}
