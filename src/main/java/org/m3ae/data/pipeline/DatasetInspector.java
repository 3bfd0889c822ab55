package org.m3ae.data.pipeline;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import org.m3ae.data.BadRecordReason;
import org.m3ae.data.DataRecord;
import org.m3ae.data.config.PipelineConfig;
import org.m3ae.data.image.ImageDecodeException;
import org.m3ae.data.image.ImageDecoder;

/**
 * What {@code data inspect} reports per split: records, distinct images, skips by reason, token
 * length percentiles under the pipeline's tokenizer (specials included), VQA answer statistics and
 * the image size range. With {@code decode} every image is fully decoded (finds corrupt files);
 * otherwise sizes come from the file headers.
 */
public final class DatasetInspector {

  private DatasetInspector() {}

  public static Map<String, Object> inspect(DataPipeline p, boolean decode) {
    Map<String, Object> doc = new LinkedHashMap<>();
    PipelineConfig cfg = p.config();
    doc.put("pipeline", cfg.name());
    doc.put("task", cfg.task().name().toLowerCase(java.util.Locale.ROOT));
    doc.put("root", p.root().toString());
    doc.put("tokenizer", cfg.tokenizer().file() + " (" + cfg.tokenizer().style().name().toLowerCase(java.util.Locale.ROOT) + ", max_length " + cfg.tokenizer().maxLength() + ")");
    if (cfg.task() == PipelineConfig.Task.VQA) {
      doc.put("answer_vocabulary", p.answerVocabulary().size());
      doc.put("answer_vocabulary_splits", p.answerVocabulary().splits());
      doc.put("answer_order", p.answerVocabulary().order().id());
    }
    if (cfg.task() == PipelineConfig.Task.CLASSIFICATION) doc.put("classes", p.classLabels().size());
    Map<String, Object> splits = new LinkedHashMap<>();
    Set<Path> allImages = new LinkedHashSet<>();
    for (String s : p.splits()) {
      List<DataRecord> rs = p.records(s);
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("records", rs.size());
      Set<Path> imgs = new LinkedHashSet<>();
      for (DataRecord r : rs) imgs.add(r.image());
      allImages.addAll(imgs);
      m.put("images", imgs.size());
      int[] lens = new int[rs.size()];
      int truncated = 0;
      for (int i = 0; i < rs.size(); i++) {
        lens[i] = p.tokenizer().countTokens(rs.get(i).text()) + 2;
        if (lens[i] > cfg.tokenizer().maxLength()) truncated++;
      }
      m.put("tokens", percentiles(lens));
      m.put("truncated", truncated);
      if (cfg.task() == PipelineConfig.Task.VQA) {
        long closed = rs.stream().filter(r -> Boolean.TRUE.equals(r.closed())).count();
        m.put("closed", closed);
        m.put("open", rs.size() - closed);
        m.put("distinct_answers", rs.stream().map(DataRecord::answer).distinct().count());
      }
      m.put("image_size", sizes(imgs, decode, p, s));
      splits.put(s, m);
    }
    doc.put("splits", splits);
    doc.put("images_total", allImages.size());
    doc.put("image_files_on_disk", imageFiles(p));
    doc.put("skipped", p.report().snapshot());
    return doc;
  }

  /** Files in the image folders (a dataset may hold images no record references). */
  private static long imageFiles(DataPipeline p) {
    Set<Path> dirs = new LinkedHashSet<>();
    for (String s : p.splits()) {
      PipelineConfig.Split sp = p.config().splits().get(s);
      dirs.add(p.root().resolve((sp.imageDir() != null ? sp.imageDir() : p.config().images().dir()).replace("{split}", s)));
    }
    long n = 0;
    for (Path d : dirs) {
      if (!java.nio.file.Files.isDirectory(d)) continue;
      try (var st = java.nio.file.Files.walk(d)) {
        n += st.filter(java.nio.file.Files::isRegularFile).count();
      } catch (IOException e) {
        throw new java.io.UncheckedIOException("cannot list " + d, e);
      }
    }
    return n;
  }

  static Map<String, Object> percentiles(int[] v) {
    Map<String, Object> m = new LinkedHashMap<>();
    if (v.length == 0) return m;
    int[] s = v.clone();
    Arrays.sort(s);
    for (int q : new int[] {50, 90, 95, 99}) m.put("p" + q, s[(int) Math.min(s.length - 1, Math.ceil(q / 100.0 * s.length) - 1)]);
    m.put("max", s[s.length - 1]);
    return m;
  }

  private static Map<String, Object> sizes(Set<Path> imgs, boolean decode, DataPipeline p, String split) {
    int minW = Integer.MAX_VALUE, maxW = 0, minH = Integer.MAX_VALUE, maxH = 0;
    for (Path f : imgs) {
      int w, h;
      try {
        if (decode) {
          var im = ImageDecoder.decode(f);
          w = im.width();
          h = im.height();
        } else {
          int[] wh = headerSize(f);
          w = wh[0];
          h = wh[1];
        }
      } catch (ImageDecodeException e) {
        p.report().bad(split, e.reason(), f.toString(), e.getMessage());
        continue;
      }
      minW = Math.min(minW, w);
      maxW = Math.max(maxW, w);
      minH = Math.min(minH, h);
      maxH = Math.max(maxH, h);
    }
    Map<String, Object> m = new LinkedHashMap<>();
    if (maxW > 0) {
      m.put("width", minW + "-" + maxW);
      m.put("height", minH + "-" + maxH);
    }
    return m;
  }

  private static int[] headerSize(Path f) throws ImageDecodeException {
    try (ImageInputStream in = ImageIO.createImageInputStream(f.toFile())) {
      Iterator<ImageReader> it = in == null ? null : ImageIO.getImageReaders(in);
      if (it == null || !it.hasNext()) throw new ImageDecodeException(BadRecordReason.UNSUPPORTED_IMAGE_FORMAT, "no reader for " + f);
      ImageReader r = it.next();
      try {
        r.setInput(in);
        return new int[] {r.getWidth(0), r.getHeight(0)};
      } finally {
        r.dispose();
      }
    } catch (IOException e) {
      throw new ImageDecodeException(BadRecordReason.CORRUPT_IMAGE, "unreadable image header " + f + ": " + e.getMessage());
    }
  }
}
