package org.m3ae.data.image;

import org.m3ae.data.BadRecordReason;

/** An image file that cannot be turned into pixels, with the reason a skip report counts. */
public final class ImageDecodeException extends Exception {
  private final BadRecordReason reason;

  public ImageDecodeException(BadRecordReason reason, String message) {
    super(message);
    this.reason = reason;
  }

  public BadRecordReason reason() {
    return reason;
  }
}
