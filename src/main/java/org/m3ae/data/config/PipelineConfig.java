package org.m3ae.data.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.Map;
import org.m3ae.data.image.ClipTransform;
import org.m3ae.data.text.TokenizerSpec;
import org.m3ae.data.vqa.AnswerOrder;

/**
 * A dataset pipeline definition ({@code data-pipelines/*.yaml}); {@link PipelineLoader} reads it
 * and rejects unknown keys with file and line. Paths are relative to the working directory.
 *
 * @param name dataset name used in reports
 * @param task what a record is for
 * @param root dataset folder ({@code embedded:synthetic} materialises the synthetic set); {@code
 *     --root} overrides it
 * @param format how the split files are laid out
 * @param splits split name to its files
 * @param fields record field to the source field (dot path for JSON, column name for delimited)
 * @param constants record fields with a fixed value (e.g. VQA-Med-2019's answer_type OPEN)
 * @param filter source field to the value a record must have (e.g. SLAKE's q_lang: en)
 * @param minWords texts with fewer words are filtered (SPEC §3.1: ROCO/MedICaT keep >= 3)
 * @param images where images live and how a record's image field becomes a file name
 * @param tokenizer how text is tokenised
 * @param image resolution and per-split transforms
 * @param vqa answer-vocabulary options (task vqa)
 * @param maxRecords per split, keep the first N after the seeded shuffle (SPEC §3.2 IRTR-ROCO: 2000)
 * @param shuffleSeed seed of that shuffle (SPEC §3.2: 42)
 * @param generator options of the synthetic generator when root is {@code embedded:synthetic}
 */
public record PipelineConfig(
    @JsonProperty(value = "name", required = true) String name,
    @JsonProperty(value = "task", required = true) Task task,
    @JsonProperty(value = "root", required = true) String root,
    @JsonProperty(value = "format", required = true) Format format,
    @JsonProperty("delimited") Delimited delimited,
    @JsonProperty(value = "splits", required = true) Map<String, Split> splits,
    @JsonProperty(value = "fields", required = true) Map<String, String> fields,
    @JsonProperty("constants") Map<String, String> constants,
    @JsonProperty("filter") Map<String, String> filter,
    @JsonProperty("min_words") int minWords,
    @JsonProperty(value = "images", required = true) Images images,
    @JsonProperty(value = "tokenizer", required = true) TokenizerSpec tokenizer,
    @JsonProperty(value = "image", required = true) ImageSpec image,
    @JsonProperty("vqa") Vqa vqa,
    @JsonProperty("max_records") Map<String, Integer> maxRecords,
    @JsonProperty("shuffle_seed") Long shuffleSeed,
    @JsonProperty("generator") Generator generator) {

  public enum Task {
    @JsonProperty("pairs") PAIRS,
    @JsonProperty("retrieval") RETRIEVAL,
    @JsonProperty("vqa") VQA,
    @JsonProperty("classification") CLASSIFICATION
  }

  public enum Format {
    @JsonProperty("jsonl") JSONL,
    @JsonProperty("json") JSON,
    @JsonProperty("delimited") DELIMITED
  }

  /** Delimited text: {@code columns} names the fields when there is no header line. */
  public record Delimited(
      @JsonProperty(value = "delimiter", required = true) String delimiter,
      @JsonProperty("quote") String quote,
      @JsonProperty("header") boolean header,
      @JsonProperty("columns") List<String> columns) {}

  /** @param imageDir overrides {@code images.dir} for this split */
  public record Split(
      @JsonProperty(value = "files", required = true) List<String> files,
      @JsonProperty("image_dir") String imageDir,
      @JsonProperty("holdout") Holdout holdout) {}

  /**
   * A seeded share of a split's files set aside, for a dataset whose only held-out split is the one results are
   * reported on (MedPix 2.0: train and dev). Two splits over the same files with the same fraction and seed, one
   * keeping {@code held} and one the {@code rest}, partition them. Records are assigned by a hash of their group
   * ({@code fields.group}, else the image file's name), so a group never straddles the two sides, and the assignment
   * does not depend on file order or on where the data lives. Group by what the reported split was divided by:
   * MedPix's train and dev share no case, and one case's images often carry the very same caption, so a share held
   * out by image would be scored against its own captions.
   *
   * @param fraction share of groups held out, in (0, 1)
   * @param seed which share
   * @param keep which side this split reads
   */
  public record Holdout(
      @JsonProperty(value = "fraction", required = true) double fraction,
      @JsonProperty("seed") long seed,
      @JsonProperty(value = "keep", required = true) Keep keep) {
    public Holdout {
      if (!(fraction > 0 && fraction < 1)) throw new IllegalArgumentException("key 'holdout.fraction' must lie in (0, 1), got " + fraction);
    }

    public enum Keep {
      @JsonProperty("held") HELD,
      @JsonProperty("rest") REST
    }

    /** True when the group {@code group} is on the held-out side. */
    public boolean held(String group) {
      // FNV-1a over the name's UTF-8 bytes, then a SplittableRandom draw seeded by it and the seed: stable across
      // JVMs and platforms (String.hashCode would be too, but clusters for names differing in one trailing digit).
      long h = 0xcbf29ce484222325L;
      for (byte b : group.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
        h ^= b & 0xff;
        h *= 0x100000001b3L;
      }
      return new java.util.SplittableRandom(h ^ (seed * 0x9E3779B97F4A7C15L)).nextDouble() < fraction;
    }

    /** True when this split reads the records of group {@code group}. */
    public boolean keeps(String group) {
      return held(group) == (keep == Keep.HELD);
    }
  }

  /** @param pattern file name with {@code {image}} replaced by the record's image field */
  public record Images(@JsonProperty(value = "dir", required = true) String dir, @JsonProperty("pattern") String pattern) {
    public String patternOrDefault() {
      return pattern == null ? "{image}" : pattern;
    }
  }

  /**
   * @param size resolution; SPEC §3.4: 288 pre-training, 384 fine-tuning
   * @param transforms split name (or {@code default}) to {@code clip} / {@code clip_resizedcrop}
   * @param cropScale {@code clip_resizedcrop}'s range of area shares, {@code [low, high]}; absent: M3AE's [0.9, 1.0].
   *     A wider range ([0.35, 1.0], say) is the usual remedy when a tower trained from scratch memorises a small set
   */
  public record ImageSpec(
      @JsonProperty(value = "size", required = true) int size,
      @JsonProperty("transforms") Map<String, String> transforms,
      @JsonProperty("crop_scale") List<Double> cropScale) {
    public ImageSpec {
      if (cropScale != null) {
        if (cropScale.size() != 2 || cropScale.contains(null))
          throw new IllegalArgumentException("key 'image.crop_scale' must be [low, high], got " + cropScale);
        double lo = cropScale.get(0), hi = cropScale.get(1);
        if (!(0 < lo && lo <= hi && hi <= 1))
          throw new IllegalArgumentException("key 'image.crop_scale' must satisfy 0 < low <= high <= 1, got " + cropScale);
      }
    }

    public String transformFor(String split) {
      if (transforms == null) return "clip";
      return transforms.getOrDefault(split, transforms.getOrDefault("default", "clip"));
    }

    /** The transform a split's images go through. */
    public ClipTransform transform(String split) {
      ClipTransform.Kind k = ClipTransform.Kind.parse(transformFor(split));
      return cropScale == null ? new ClipTransform(size, k) : new ClipTransform(size, k, cropScale.get(0), cropScale.get(1));
    }
  }

  /**
   * @param vocabSplits splits whose answers form the vocabulary; M3AE uses all of them (SPEC §3.2),
   *     {@code [train]} gives a train-only vocabulary. With {@code first_appearance} the listed order is the order
   *     answers are met in (M3AE: train, val, test)
   * @param answerOrder how answers are numbered (the VQA head's columns); absent: {@code sorted}
   */
  public record Vqa(@JsonProperty("vocab_splits") List<String> vocabSplits, @JsonProperty("answer_order") AnswerOrder answerOrder) {
    public Vqa {
      answerOrder = answerOrder == null ? AnswerOrder.SORTED : answerOrder;
    }
  }

  public record Generator(@JsonProperty("n") int n, @JsonProperty("seed") long seed) {}

  public PipelineConfig withRoot(String newRoot) {
    return new PipelineConfig(name, task, newRoot, format, delimited, splits, fields, constants, filter, minWords, images, tokenizer, image, vqa, maxRecords, shuffleSeed, generator);
  }

  public PipelineConfig withImageSize(int size) {
    return new PipelineConfig(name, task, root, format, delimited, splits, fields, constants, filter, minWords, images, tokenizer, new ImageSpec(size, image.transforms(), image.cropScale()), vqa, maxRecords, shuffleSeed, generator);
  }
}
