package org.m3ae.model;

/** A config file that cannot be used; the message names the file, and where known the line and key. */
public final class ConfigException extends RuntimeException {
  public ConfigException(String message) {
    super(message);
  }

  public ConfigException(String message, Throwable cause) {
    super(message, cause);
  }
}
