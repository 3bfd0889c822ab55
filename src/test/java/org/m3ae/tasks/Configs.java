package org.m3ae.tasks;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Task configs for tests, written as YAML and read by the loader users' files go through. */
final class Configs {
  private Configs() {}

  static TaskConfig task(Path file, String yaml) {
    try {
      Files.writeString(file, yaml);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return TaskConfig.load(file);
  }
}
