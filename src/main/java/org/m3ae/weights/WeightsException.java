package org.m3ae.weights;

/** A weights file or mapping problem; the message names the file and the key involved. */
public final class WeightsException extends RuntimeException {
  public WeightsException(String message) {
    super(message);
  }

  public WeightsException(String message, Throwable cause) {
    super(message, cause);
  }
}
