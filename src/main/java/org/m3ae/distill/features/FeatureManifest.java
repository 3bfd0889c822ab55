package org.m3ae.distill.features;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;

/**
 * {@code manifest.json} of one teacher's feature directory: which teacher (its file and that file's SHA-256), how its
 * features were pooled, their widths, which data (pipeline, split), and the shards with the record ids of their rows,
 * in order. Rewritten after every shard, so an interrupted extraction resumes after its last complete shard.
 */
public record FeatureManifest(
    @JsonProperty(required = true) int version,
    @JsonProperty(required = true) String teacher,
    @JsonProperty(required = true) TeacherSpec.Family family,
    @JsonProperty(required = true) String source,
    @JsonProperty(value = "source_sha256", required = true) String sourceSha256,
    String tokenizer,
    String config,
    @JsonProperty(required = true) String pooling,
    String prefix,
    @JsonProperty(required = true) Map<String, Integer> dims,
    @JsonProperty(required = true) String pipeline,
    @JsonProperty(required = true) String split,
    @JsonProperty(value = "batch_size", required = true) int batchSize,
    @JsonProperty(value = "batches_per_shard", required = true) int batchesPerShard,
    @JsonProperty(required = true) List<Shard> shards,
    @JsonProperty(value = "bad_records") Map<String, Integer> badRecords,
    @JsonProperty(required = true) boolean complete) {

  public static final String FILE = "manifest.json";
  public static final int VERSION = 1;

  /** One shard file: its rows' record ids in order, the SHA-256 of the file, and the bad records its batches dropped. */
  public record Shard(@JsonProperty(required = true) String file, @JsonProperty(required = true) List<String> ids,
      @JsonProperty(required = true) String sha256, Map<String, Integer> bad) {}

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  public static FeatureManifest read(Path dir) {
    Path f = dir.resolve(FILE);
    if (!Files.isRegularFile(f)) throw new IllegalArgumentException(f + ": no feature manifest (write one with extract-features)");
    try {
      FeatureManifest m = JSON.readValue(f.toFile(), FeatureManifest.class);
      if (m.version() != VERSION) throw new IllegalArgumentException(f + ": key 'version' " + m.version() + ", expected " + VERSION);
      return m;
    } catch (IOException e) {
      throw new IllegalArgumentException(f + ": not a feature manifest: " + e.getMessage(), e);
    }
  }

  /** Written to a temporary sibling and renamed: a kill leaves the previous manifest or the new one. */
  public void write(Path dir) {
    try {
      Files.createDirectories(dir);
      Path tmp = dir.resolve(FILE + ".tmp");
      Files.write(tmp, JSON.writeValueAsBytes(this));
      Files.move(tmp, dir.resolve(FILE), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + dir.resolve(FILE), e);
    }
  }

  /** Every record id, in row order over the shards. */
  public List<String> ids() {
    return shards.stream().flatMap(s -> s.ids().stream()).toList();
  }

  public FeatureManifest withShards(List<Shard> s, Map<String, Integer> bad, boolean done) {
    return new FeatureManifest(version, teacher, family, source, sourceSha256, tokenizer, config, pooling, prefix, dims, pipeline,
        split, batchSize, batchesPerShard, List.copyOf(s), bad, done);
  }
}
