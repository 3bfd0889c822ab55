package org.m3ae.data;

import com.fasterxml.jackson.annotation.JsonProperty;

/** {@code --on-bad-record} and the configs' {@code data.on_bad_record}: skip and count each bad record, or stop at the first one. */
public enum BadRecordPolicy {
  @JsonProperty("skip") SKIP,
  @JsonProperty("fail") FAIL;

  public static BadRecordPolicy parse(String s) {
    return switch (s.toLowerCase(java.util.Locale.ROOT)) {
      case "skip" -> SKIP;
      case "fail" -> FAIL;
      default -> throw new IllegalArgumentException("--on-bad-record must be skip or fail, got '" + s + "'");
    };
  }
}
