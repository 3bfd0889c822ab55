package org.m3ae.data.readers;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.datavec.api.records.Record;
import org.datavec.api.records.metadata.RecordMetaDataLine;
import org.datavec.api.records.reader.impl.LineRecordReader;
import org.datavec.api.records.reader.impl.csv.CSVRecordReader;
import org.datavec.api.split.FileSplit;
import org.datavec.api.writable.Writable;
import org.m3ae.data.BadRecordReason;
import org.m3ae.data.DataRecord;
import org.m3ae.data.SkipReport;
import org.m3ae.data.config.PipelineConfig;

/**
 * Reads one split of a pipeline into records: JSON Lines and delimited text through DataVec's line
 * and CSV record readers (their metadata gives the line numbers errors cite), JSON arrays through
 * Jackson's streaming parser (one element at a time, with its line).
 */
public final class DatasetReader {

  private static final ObjectMapper JSON = new ObjectMapper();

  private DatasetReader() {}

  public static List<DataRecord> read(PipelineConfig cfg, Path root, String split, SkipReport report) {
    PipelineConfig.Split s = cfg.splits().get(split);
    if (s == null) throw new IllegalArgumentException("pipeline " + cfg.name() + " has no split '" + split + "' (splits: " + cfg.splits().keySet() + ")");
    Path imageDir = root.resolve((s.imageDir() != null ? s.imageDir() : cfg.images().dir()).replace("{split}", split));
    RecordInterpreter interp = new RecordInterpreter(cfg, report);
    List<DataRecord> out = new ArrayList<>();
    for (String f : s.files()) {
      Path file = root.resolve(f.replace("{split}", split));
      if (!Files.isRegularFile(file)) throw new IllegalArgumentException("split '" + split + "' of pipeline " + cfg.name() + ": file not found: " + file);
      switch (cfg.format()) {
        case JSONL -> readJsonl(file, row -> add(out, interp.interpret(row, split, imageDir)), split, report);
        case JSON -> readJsonArray(file, row -> add(out, interp.interpret(row, split, imageDir)), split, report);
        case DELIMITED -> readDelimited(cfg.delimited(), file, row -> add(out, interp.interpret(row, split, imageDir)), split, report);
      }
    }
    if (s.holdout() != null) out.removeIf(r -> !s.holdout().keeps(r.group()));
    Integer max = cfg.maxRecords() == null ? null : cfg.maxRecords().get(split);
    if (max != null && out.size() > max) {
      Collections.shuffle(out, new Random(cfg.shuffleSeed() == null ? 42L : cfg.shuffleSeed()));
      return List.copyOf(out.subList(0, max));
    }
    return List.copyOf(out);
  }

  private static void add(List<DataRecord> out, DataRecord r) {
    if (r != null) out.add(r);
  }

  private static void readJsonl(Path file, java.util.function.Consumer<RawRow> sink, String split, SkipReport report) {
    try (LineRecordReader rr = new LineRecordReader()) {
      rr.initialize(new FileSplit(file.toFile()));
      while (rr.hasNext()) {
        Record r = rr.nextRecord();
        String line = r.getRecord().get(0).toString();
        String loc = file + ":" + lineNumber(r);
        if (line.isBlank()) continue;
        JsonNode node;
        try {
          node = JSON.readTree(line);
        } catch (JsonProcessingException e) {
          report.bad(split, BadRecordReason.MALFORMED_RECORD, loc, "invalid JSON: " + e.getOriginalMessage());
          continue;
        }
        if (node == null || !node.isObject()) {
          report.bad(split, BadRecordReason.MALFORMED_RECORD, loc, "line is not a JSON object");
          continue;
        }
        sink.accept(jsonRow(node, loc));
      }
    } catch (IOException | InterruptedException e) {
      throw new UncheckedIOException("cannot read " + file, e instanceof IOException io ? io : new IOException(e));
    }
  }

  private static int lineNumber(Record r) {
    // DataVec counts lines from 0; editors and error messages count from 1.
    return r.getMetaData() instanceof RecordMetaDataLine m ? m.getLineNumber() + 1 : -1;
  }

  private static void readJsonArray(Path file, java.util.function.Consumer<RawRow> sink, String split, SkipReport report) {
    try (JsonParser p = JSON.getFactory().createParser(file.toFile())) {
      JsonToken t = p.nextToken();
      if (t != JsonToken.START_ARRAY) {
        report.bad(split, BadRecordReason.MALFORMED_RECORD, file + ":" + p.currentLocation().getLineNr(), "expected a JSON array of records");
        return;
      }
      while (true) {
        try {
          t = p.nextToken();
          if (t == JsonToken.END_ARRAY || t == null) break;
          JsonLocation at = p.currentTokenLocation();
          String loc = file + ":" + at.getLineNr();
          JsonNode node = JSON.readTree(p);
          if (!node.isObject()) {
            report.bad(split, BadRecordReason.MALFORMED_RECORD, loc, "array element is not a JSON object");
            continue;
          }
          sink.accept(jsonRow(node, loc));
        } catch (JsonParseException e) {
          // The rest of the file cannot be parsed reliably: count it and say where it broke.
          report.bad(split, BadRecordReason.MALFORMED_RECORD, file + ":" + e.getLocation().getLineNr(), "invalid JSON, rest of file unreadable: " + e.getOriginalMessage());
          return;
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  private static RawRow jsonRow(JsonNode node, String loc) {
    return new RawRow() {
      @Override
      public String get(String field) {
        JsonNode n = node;
        for (String part : field.split("\\.")) {
          n = n.get(part);
          if (n == null || n.isNull()) return null;
        }
        return n.isValueNode() ? n.asText() : n.toString();
      }

      @Override
      public String location() {
        return loc;
      }
    };
  }

  private static void readDelimited(PipelineConfig.Delimited d, Path file, java.util.function.Consumer<RawRow> sink, String split, SkipReport report) {
    String delim = d.delimiter().equals("\\t") ? "\t" : d.delimiter();
    if (delim.length() != 1) throw new IllegalArgumentException("delimited.delimiter must be one character, got '" + d.delimiter() + "'");
    char quote = d.quote() == null || d.quote().isEmpty() ? '\u0000' : d.quote().charAt(0);
    List<String> columns;
    if (d.header()) {
      String first;
      try (var br = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
        first = br.readLine();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + file, e);
      }
      if (first == null) return;
      columns = new ArrayList<>();
      for (String c : first.replace("\uFEFF", "").split(java.util.regex.Pattern.quote(delim), -1)) columns.add(c.strip().replace(String.valueOf(quote), ""));
    } else if (d.columns() != null) {
      columns = d.columns();
    } else {
      throw new IllegalArgumentException("delimited: set header: true or list the columns");
    }
    try (CSVRecordReader rr = new CSVRecordReader(d.header() ? 1 : 0, delim.charAt(0), quote)) {
      rr.initialize(new FileSplit(file.toFile()));
      while (rr.hasNext()) {
        Record r;
        try {
          r = rr.nextRecord();
        } catch (RuntimeException e) {
          report.bad(split, BadRecordReason.MALFORMED_RECORD, file.toString(), "unparsable line: " + e.getMessage());
          continue;
        }
        List<Writable> vals = r.getRecord();
        String loc = file + ":" + lineNumber(r);
        if (vals.size() == 1 && vals.get(0).toString().isBlank()) continue;
        if (vals.size() != columns.size()) {
          report.bad(split, BadRecordReason.MALFORMED_RECORD, loc, "expected " + columns.size() + " columns " + columns + ", found " + vals.size());
          continue;
        }
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < columns.size(); i++) m.put(columns.get(i), vals.get(i).toString());
        sink.accept(new RawRow() {
          @Override
          public String get(String field) {
            return m.get(field);
          }

          @Override
          public String location() {
            return loc;
          }
        });
      }
    } catch (IOException | InterruptedException e) {
      throw new UncheckedIOException("cannot read " + file, e instanceof IOException io ? io : new IOException(e));
    }
  }
}
