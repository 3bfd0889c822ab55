package org.m3ae.data;

/** {@code --on-bad-record}: skip and count each bad record, or stop at the first one. */
public enum BadRecordPolicy {
  SKIP,
  FAIL;

  public static BadRecordPolicy parse(String s) {
    return switch (s.toLowerCase(java.util.Locale.ROOT)) {
      case "skip" -> SKIP;
      case "fail" -> FAIL;
      default -> throw new IllegalArgumentException("--on-bad-record must be skip or fail, got '" + s + "'");
    };
  }
}
