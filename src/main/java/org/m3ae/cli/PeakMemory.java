package org.m3ae.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The process's peak resident set (Linux {@code VmHWM}), for the timing lines of weight commands. */
final class PeakMemory {
  private PeakMemory() {}

  static String rssMb() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) {
          long kb = Long.parseLong(line.replaceAll("[^0-9]", ""));
          return Long.toString(kb / 1024);
        }
      }
    } catch (IOException | NumberFormatException e) {
      // not Linux: no figure
    }
    return "n/a";
  }
}
