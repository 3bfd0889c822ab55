package org.m3ae.data.readers;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.m3ae.data.BadRecordReason;
import org.m3ae.data.DataRecord;
import org.m3ae.data.SkipReport;
import org.m3ae.data.config.PipelineConfig;
import org.m3ae.data.image.ImageDecodeException;
import org.m3ae.data.image.ImageDecoder;
import org.m3ae.data.vqa.AnswerNormalizer;

/**
 * Turns a raw row into a {@link DataRecord} the same way for every file format: filter, required
 * fields, non-blank text, answer normalisation (SPEC §3.2), and a cheap image check (exists, known
 * format, not truncated) so that most bad images are counted before the first epoch.
 */
final class RecordInterpreter {

  private final PipelineConfig cfg;
  private final SkipReport report;
  private final Map<Path, String> imageProblems = new ConcurrentHashMap<>();
  private final Map<Path, BadRecordReason> imageReasons = new ConcurrentHashMap<>();

  RecordInterpreter(PipelineConfig cfg, SkipReport report) {
    this.cfg = cfg;
    this.report = report;
  }

  /** The record, or null when it was filtered or skipped (already counted in the report). */
  DataRecord interpret(RawRow row, String split, Path imageDir) {
    if (cfg.filter() != null) {
      for (Map.Entry<String, String> f : cfg.filter().entrySet()) {
        String v = row.get(f.getKey());
        if (v == null || !v.equals(f.getValue())) {
          report.filtered(split, row.location(), f.getKey() + "=" + v);
          return null;
        }
      }
    }
    String image = field(row, "image", split);
    if (image == null) return null;
    String text = field(row, "text", split);
    if (text == null) return null;
    text = text.strip().replaceAll("\\s+", " ");
    if (text.isEmpty()) {
      report.bad(split, BadRecordReason.EMPTY_TEXT, row.location(), "field '" + cfg.fields().get("text") + "' is empty or whitespace-only");
      return null;
    }
    if (cfg.minWords() > 0 && text.split(" ").length < cfg.minWords()) {
      report.filtered(split, row.location(), "fewer than " + cfg.minWords() + " words");
      return null;
    }
    String answer = null;
    Boolean closed = null;
    String label = null;
    switch (cfg.task()) {
      case VQA -> {
        String raw = field(row, "answer", split);
        if (raw == null) return null;
        answer = AnswerNormalizer.normalize(raw);
        if (answer.isEmpty()) {
          report.bad(split, BadRecordReason.EMPTY_TEXT, row.location(), "answer '" + raw + "' is empty after normalisation");
          return null;
        }
        String type = field(row, "answer_type", split);
        if (type == null) return null;
        switch (type.strip().toUpperCase(Locale.ROOT)) {
          case "CLOSED" -> closed = true;
          case "OPEN" -> closed = false;
          default -> {
            report.bad(split, BadRecordReason.MALFORMED_RECORD, row.location(), "answer_type '" + type + "' is neither CLOSED nor OPEN");
            return null;
          }
        }
      }
      case CLASSIFICATION -> {
        label = field(row, "label", split);
        if (label == null) return null;
        label = label.strip();
      }
      default -> {}
    }
    Path file = imageDir.resolve(cfg.images().patternOrDefault().replace("{image}", image.strip()));
    String problem = checkImage(file);
    if (problem != null) {
      report.bad(split, imageReasons.get(file), row.location(), problem);
      return null;
    }
    String idField = cfg.fields().get("id");
    String id = idField != null && row.get(idField) != null ? row.get(idField) : image.strip();
    String groupField = cfg.fields().get("group");
    String group = groupField != null && row.get(groupField) != null ? row.get(groupField) : file.getFileName().toString();
    return new DataRecord(id, file, text, answer, closed, label, row.location(), group);
  }

  /** A required field: from the row via {@code fields}, else from {@code constants}. */
  private String field(RawRow row, String key, String split) {
    String src = cfg.fields().get(key);
    if (src != null) {
      String v = row.get(src);
      if (v == null) {
        report.bad(split, BadRecordReason.MISSING_FIELD, row.location(), "missing field '" + src + "'");
        return null;
      }
      return v;
    }
    if (cfg.constants() != null && cfg.constants().containsKey(key)) return cfg.constants().get(key);
    report.bad(split, BadRecordReason.MISSING_FIELD, row.location(), "pipeline maps no field to '" + key + "'");
    return null;
  }

  private String checkImage(Path file) {
    if (imageProblems.containsKey(file)) return imageProblems.get(file).isEmpty() ? null : imageProblems.get(file);
    String problem = "";
    try {
      if (!Files.isRegularFile(file)) throw new ImageDecodeException(BadRecordReason.MISSING_IMAGE, "image not found: " + file);
      byte[] head = new byte[16];
      byte[] tail = new byte[64];
      try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
        long len = f.length();
        int hn = (int) Math.min(head.length, len);
        f.readFully(head, 0, hn);
        int tn = (int) Math.min(tail.length, len);
        f.seek(len - tn);
        f.readFully(tail, 0, tn);
        ImageDecoder.Format fmt = ImageDecoder.sniff(java.util.Arrays.copyOf(head, hn), file.toString());
        if (!complete(fmt, java.util.Arrays.copyOf(tail, tn)))
          throw new ImageDecodeException(BadRecordReason.CORRUPT_IMAGE, "truncated " + fmt + " (no end marker): " + file);
      }
    } catch (ImageDecodeException e) {
      problem = e.getMessage();
      imageReasons.put(file, e.reason());
    } catch (IOException e) {
      problem = "cannot read image " + file + ": " + e.getMessage();
      imageReasons.put(file, BadRecordReason.MISSING_IMAGE);
    }
    imageProblems.put(file, problem);
    return problem.isEmpty() ? null : problem;
  }

  private static boolean complete(ImageDecoder.Format fmt, byte[] tail) {
    for (int i = tail.length - 2; i >= 0; i--) {
      if (fmt == ImageDecoder.Format.JPEG && (tail[i] & 0xff) == 0xFF && (tail[i + 1] & 0xff) == 0xD9) return true;
      if (fmt == ImageDecoder.Format.PNG && i + 3 < tail.length && tail[i] == 'I' && tail[i + 1] == 'E' && tail[i + 2] == 'N' && tail[i + 3] == 'D') return true;
    }
    return false;
  }
}
