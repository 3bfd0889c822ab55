package org.m3ae.distill;

import org.m3ae.distill.features.BertFeatureTeacher;
import org.m3ae.distill.features.FeatureManifest;
import org.m3ae.distill.features.FeatureTeacher;
import org.m3ae.distill.features.TeacherSpec;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.m3ae.data.BadRecordPolicy;
import org.m3ae.data.DataRecord;
import org.m3ae.data.config.PipelineConfig;
import org.m3ae.data.pipeline.Batch;
import org.m3ae.data.pipeline.BatchOptions;
import org.m3ae.data.pipeline.DataPipeline;
import org.m3ae.data.pipeline.PrefetchingBatchIterator;
import org.m3ae.model.ModelConfig;
import org.m3ae.train.FeatureKind;
import org.m3ae.data.text.RobertaIdsGuard;
import org.m3ae.weights.SafetensorsWriter;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code extract-features}: each teacher once over a split, in file order, into {@code <out>/<teacher>/}: shards
 * {@code shard-NNNNN.safetensors} (one [rows, D] float tensor per feature kind) and {@code manifest.json}
 * ({@link FeatureManifest}). A shard holds a fixed number of batches, is written to a temporary file and renamed, and
 * the manifest is rewritten after it: with {@code resume} an interrupted teacher continues after its last complete
 * shard, a complete one is left alone. Bad records are skipped and counted (or fail the run) by the pipeline's
 * policy, as in pre-training.
 */
public final class FeatureExtraction {
  /** Settings of one extraction. */
  public record Settings(Path pipeline, String root, String split, Path out, int batchSize, int batchesPerShard,
      BadRecordPolicy policy, boolean resume, int workers, Path bertBase, Integer maxShards) {}

  /** What one teacher's pass did. */
  public record Result(String teacher, Path dir, int records, int shards, int newShards, Map<String, Integer> badRecords,
      double seconds) {}

  private FeatureExtraction() {}

  public static List<Result> run(List<TeacherSpec> specs, Settings s, PrintStream out) {
    if (s.batchSize() <= 0 || s.batchesPerShard() <= 0) throw new IllegalArgumentException("batch size and batches per shard must be > 0");
    java.util.Set<String> names = new java.util.HashSet<>();
    for (TeacherSpec t : specs) if (!names.add(t.name())) throw new IllegalArgumentException("--teacher name '" + t.name() + "' given twice");
    List<Result> results = new ArrayList<>();
    for (TeacherSpec t : specs) results.add(runOne(t, s, out));
    return results;
  }

  private static Result runOne(TeacherSpec spec, Settings s, PrintStream out) {
    long t0 = System.nanoTime();
    Path dir = s.out().resolve(spec.name());
    FeatureManifest previous = Files.exists(dir.resolve(FeatureManifest.FILE)) ? FeatureManifest.read(dir) : null;
    if (previous != null && !s.resume()) {
      throw new IllegalArgumentException(dir + ": holds features already (" + previous.shards().size() + " shards"
          + (previous.complete() ? ", complete" : "") + "); pass --resume to continue, or choose another --out");
    }
    String sha = sha256(spec.weights());
    if (previous != null && previous.complete()) {
      check(previous, "source_sha256", previous.sourceSha256(), sha, dir);
      out.printf("teacher %s: complete in %s (%d records), nothing to do%n", spec.name(), dir, previous.ids().size());
      return new Result(spec.name(), dir, previous.ids().size(), previous.shards().size(), 0, previous.badRecords(), 0);
    }
    PipelineConfig pc = org.m3ae.data.config.PipelineLoader.load(s.pipeline());
    if (s.root() != null) pc = pc.withRoot(s.root());
    ModelConfig m3ae = spec.family() == TeacherSpec.Family.M3AE ? ModelConfig.load(spec.model()) : null;
    if (m3ae != null) pc = pc.withImageSize(m3ae.vision().imageSize());
    try (DataPipeline data = DataPipeline.open(pc, s.policy());
        FeatureTeacher teacher = open(spec, m3ae, data, s, out)) {
      Map<String, Integer> dims = new LinkedHashMap<>();
      teacher.dims().entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> dims.put(e.getKey().key(), e.getValue()));
      FeatureManifest fresh = new FeatureManifest(FeatureManifest.VERSION, spec.name(), spec.family(), spec.weights().toString(), sha,
          spec.tokenizer() == null ? null : spec.tokenizer().toString(), spec.model() == null ? null : spec.model().toString(),
          spec.poolingDescription(), spec.prefix(), dims, s.pipeline().toString(), s.split(), s.batchSize(), s.batchesPerShard(),
          List.of(), Map.of(), false);
      List<FeatureManifest.Shard> shards = new ArrayList<>();
      if (previous != null) {
        check(previous, "source_sha256", previous.sourceSha256(), sha, dir);
        check(previous, "pipeline", previous.pipeline(), fresh.pipeline(), dir);
        check(previous, "split", previous.split(), fresh.split(), dir);
        check(previous, "batch_size", previous.batchSize(), fresh.batchSize(), dir);
        check(previous, "batches_per_shard", previous.batchesPerShard(), fresh.batchesPerShard(), dir);
        check(previous, "pooling", previous.pooling(), fresh.pooling(), dir);
        check(previous, "prefix", previous.prefix(), fresh.prefix(), dir);
        check(previous, "dims", previous.dims(), fresh.dims(), dir);
        for (FeatureManifest.Shard sh : previous.shards()) {
          Path f = dir.resolve(sh.file());
          if (!Files.exists(f) || !sha256(f).equals(sh.sha256())) {
            throw new IllegalArgumentException(f + ": missing or changed since the manifest listed it; remove " + dir + " and start again");
          }
        }
        shards.addAll(previous.shards());
        out.printf("teacher %s: resuming after %d shards (%d records)%n", spec.name(), shards.size(), previous.ids().size());
      }
      Files.createDirectories(dir);

      Map<String, String> text = new HashMap<>();
      for (DataRecord r : data.records(s.split())) text.put(r.id(), r.text());
      int totalRecords = text.size();
      int totalBatches = (totalRecords + s.batchSize() - 1) / s.batchSize();
      int start = shards.size() * s.batchesPerShard();
      Map<String, Integer> readerBad = data.report().snapshot().getOrDefault(s.split(), Map.of());
      int newShards = 0;
      try (PrefetchingBatchIterator it = data.batches(s.split(), BatchOptions.plain(), s.batchSize(), 0, 0, false, false,
          s.workers(), Math.min(start, totalBatches))) {
        int b = start;
        while (b < totalBatches && (s.maxShards() == null || newShards < s.maxShards())) {
          Map<FeatureKind, List<INDArray>> parts = new LinkedHashMap<>();
          List<String> ids = new ArrayList<>();
          Map<String, Integer> before = data.report().snapshot().getOrDefault(s.split(), Map.of());
          for (int k = 0; k < s.batchesPerShard() && b < totalBatches && it.hasNext(); k++, b++) {
            Batch batch = it.next();
            if (batch.size() == 0) continue;
            List<String> texts = batch.ids().stream().map(text::get).toList();
            for (var e : teacher.features(batch, texts).entrySet()) parts.computeIfAbsent(e.getKey(), x -> new ArrayList<>()).add(e.getValue());
            ids.addAll(batch.ids());
          }
          Map<String, Integer> bad = minus(data.report().snapshot().getOrDefault(s.split(), Map.of()), before);
          String file = String.format("shard-%05d.safetensors", shards.size());
          SafetensorsWriter w = new SafetensorsWriter().metadata("teacher", spec.name()).metadata("first_record", ids.isEmpty() ? "" : ids.get(0));
          for (FeatureKind k : teacher.dims().keySet()) {
            INDArray x = parts.containsKey(k) ? org.nd4j.linalg.factory.Nd4j.vstack(parts.get(k).toArray(new INDArray[0]))
                : org.nd4j.linalg.factory.Nd4j.create(org.nd4j.linalg.api.buffer.DataType.FLOAT, 0, teacher.dims().get(k));
            w.add(k.key(), x); // [rows, D]
          }
          w.write(dir.resolve(file)); // temporary sibling, then renamed
          shards.add(new FeatureManifest.Shard(file, List.copyOf(ids), sha256(dir.resolve(file)), bad));
          newShards++;
          boolean done = b >= totalBatches;
          fresh.withShards(shards, total(readerBad, shards), done).write(dir);
          int recs = shards.stream().mapToInt(x -> x.ids().size()).sum();
          out.printf("teacher %s: batch %d/%d, %d records, %.1f records/s%n", spec.name(), b, totalBatches, recs,
              (recs - (previous == null ? 0 : previous.ids().size())) / ((System.nanoTime() - t0) / 1e9));
        }
        if (b >= totalBatches && newShards == 0) fresh.withShards(shards, total(readerBad, shards), true).write(dir);
      }
      FeatureManifest fin = FeatureManifest.read(dir);
      if (data.report().total(s.split()) > 0) out.println(data.report().summary());
      data.report().write(dir);
      out.printf("teacher %s: %s, %d records in %d shards → %s%n", spec.name(), fin.complete() ? "complete" : "incomplete",
          fin.ids().size(), fin.shards().size(), dir);
      return new Result(spec.name(), dir, fin.ids().size(), fin.shards().size(), newShards, fin.badRecords(),
          (System.nanoTime() - t0) / 1e9);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static FeatureTeacher open(TeacherSpec spec, ModelConfig m3ae, DataPipeline data, Settings s, PrintStream out) {
    if (spec.family() == TeacherSpec.Family.BERT) return BertFeatureTeacher.load(spec, ModelConfig.load(s.bertBase()), out);
    // the teacher's embeddings must be indexed by the pipeline's token ids
    PretrainRun.checkTokenizer(data.tokenizer(), m3ae, s.pipeline().toString(), spec.model().toString());
    RobertaIdsGuard.checkWeights(spec.weights(), data.tokenizer());
    return new M3aeFeatureTeacher(Teacher.load(m3ae, spec.weights()));
  }

  private static Map<String, Integer> minus(Map<String, Integer> after, Map<String, Integer> before) {
    Map<String, Integer> d = new LinkedHashMap<>();
    after.forEach((k, v) -> {
      int x = v - before.getOrDefault(k, 0);
      if (x != 0) d.put(k, x);
    });
    return d;
  }

  /** Records the reader rejected (counted again on every run) plus those each shard's batches dropped. */
  private static Map<String, Integer> total(Map<String, Integer> reader, List<FeatureManifest.Shard> shards) {
    Map<String, Integer> t = new LinkedHashMap<>(reader);
    for (FeatureManifest.Shard sh : shards) if (sh.bad() != null) sh.bad().forEach((k, v) -> t.merge(k, v, Integer::sum));
    return t;
  }

  private static void check(FeatureManifest m, String key, Object was, Object now, Path dir) {
    if (!java.util.Objects.equals(was, now)) {
      throw new IllegalArgumentException(dir.resolve(FeatureManifest.FILE) + ": key '" + key + "' is " + was + ", this run has "
          + now + "; --resume continues only the same extraction (remove " + dir + " to start again)");
    }
  }

  public static String sha256(Path f) {
    try (InputStream in = Files.newInputStream(f)) {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      byte[] buf = new byte[1 << 20];
      for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
      return HexFormat.of().formatHex(md.digest());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + f, e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
