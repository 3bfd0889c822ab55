package org.m3ae.data;

/** A bad record under the {@code fail} policy; the message names the file and line (or key). */
public final class BadRecordException extends RuntimeException {
  private final BadRecordReason reason;
  private final String location;

  public BadRecordException(BadRecordReason reason, String location, String detail) {
    super(location + ": " + reason.label() + ": " + detail);
    this.reason = reason;
    this.location = location;
  }

  public BadRecordReason reason() {
    return reason;
  }

  public String location() {
    return location;
  }
}
