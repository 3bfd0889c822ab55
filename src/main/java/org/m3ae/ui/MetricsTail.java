package org.m3ae.ui;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Follows a growing {@code metrics.jsonl} and keeps its complete lines verbatim. The UI serves these exact lines, so
 * what a browser sees is byte for byte what the training loop wrote ({@link org.m3ae.train.MetricsJsonl}); nothing is
 * re-derived, rounded or recomputed here.
 *
 * <p>A line is taken only once its newline has been written: the writer flushes whole lines, and a line without its
 * newline is still being written (or was cut by a kill). When a resumed run rewrites the file
 * ({@code MetricsJsonl.truncateFrom} replaces it by an atomic move), the file's identity changes; the tail then starts
 * over and bumps {@link #generation()}, so a client holding the old history knows to drop it.
 */
final class MetricsTail {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Bounds one poll, so a request never stalls the server's event loop on a huge file; the rest comes next poll. */
  private static final int MAX_READ_BYTES = 8 << 20;

  private final Path file;
  private final List<String> lines = new ArrayList<>();
  private Object fileKey;
  private long offset;
  private int generation;
  private int rejected;

  MetricsTail(Path file) {
    this.file = file;
  }

  Path file() {
    return file;
  }

  /** Reads what was appended since the last poll. Missing file: nothing yet (the run has not started). */
  synchronized void poll() throws IOException {
    BasicFileAttributes attrs;
    try {
      attrs = Files.readAttributes(file, BasicFileAttributes.class);
    } catch (NoSuchFileException notYet) {
      return;
    }
    Object key = attrs.fileKey();
    if (offset > 0 && (!Objects.equals(key, fileKey) || attrs.size() < offset)) restart();
    fileKey = key;
    if (attrs.size() == offset) return;
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      if (size < offset) { // replaced between the stat and the open
        restart();
        fileKey = Files.readAttributes(file, BasicFileAttributes.class).fileKey();
      }
      int n = (int) Math.min(size - offset, MAX_READ_BYTES);
      ByteBuffer buf = ByteBuffer.allocate(n);
      while (buf.hasRemaining() && ch.read(buf, offset + buf.position()) > 0) {}
      byte[] bytes = buf.array();
      int end = buf.position();
      int lastNewline = -1;
      for (int i = end - 1; i >= 0; i--) {
        if (bytes[i] == '\n') {
          lastNewline = i;
          break;
        }
      }
      if (lastNewline < 0) return;
      String chunk = new String(bytes, 0, lastNewline + 1, StandardCharsets.UTF_8);
      for (String line : chunk.split("\n")) accept(line.strip());
      offset += lastNewline + 1;
    }
  }

  private void accept(String line) {
    if (line.isEmpty()) return;
    try {
      JsonNode n = JSON.readTree(line);
      if (n != null && n.isObject() && n.has("step")) {
        lines.add(line);
        return;
      }
    } catch (IOException malformed) {
      // counted below; the file stays the authority, the UI just cannot chart this line
    }
    rejected++;
  }

  private void restart() {
    lines.clear();
    offset = 0;
    rejected = 0;
    generation++;
  }

  /** Complete, valid lines in file order, from index {@code from} on. */
  synchronized List<String> linesFrom(int from) {
    if (from < 0 || from >= lines.size()) return List.of();
    return new ArrayList<>(lines.subList(from, lines.size()));
  }

  synchronized int size() {
    return lines.size();
  }

  synchronized String lastLine() {
    return lines.isEmpty() ? null : lines.get(lines.size() - 1);
  }

  /** Incremented each time the file was replaced or shrank and the history was read again from its start. */
  synchronized int generation() {
    return generation;
  }

  /** Lines that were complete but not a JSON object with a {@code step}. */
  synchronized int rejected() {
    return rejected;
  }
}
