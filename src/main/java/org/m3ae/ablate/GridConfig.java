package org.m3ae.ablate;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.m3ae.model.ConfigException;
import org.m3ae.model.ModelConfigLoader;

/**
 * An ablation grid ({@code configs/grids/*.yaml}): variants × seeds, each cell one pre-training or distillation run
 * (a run config with overrides), fine-tuned on a task and scored on its test split. Paths are relative to the working
 * directory, as in run configs.
 *
 * <pre>{@code
 * name: table6-kd
 * shared:                      # runs made once and reused by every cell (the teacher of a distillation)
 *   teacher: {run: configs/runs/teacher-synth.yaml}
 * run: configs/runs/distill-synth.yaml
 * overrides:                   # every cell, before its variant's; "${shared.teacher}" = that run's model.safetensors
 *   teacher: {weights: "${shared.teacher}"}
 * finetune: {config: demo, steps: 400}
 * seeds: [0, 1, 2]
 * variants:
 *   - {label: KD off, overrides: {objectives: {hid: 0, attn: 0}}}
 *   - {label: hidden + attention}
 * }</pre>
 */
public record GridConfig(
    @JsonProperty(required = true) String name,
    Map<String, Shared> shared,
    @JsonProperty(required = true) String run,
    ObjectNode overrides,
    @JsonProperty(required = true) Finetune finetune,
    @JsonProperty(required = true) List<Long> seeds,
    @JsonProperty(required = true) List<Variant> variants,
    @JsonProperty("compare_to") String compareTo,
    Itm itm,
    Retrieval retrieval,
    @JsonProperty("feature_retrieval") FeatureRetrieval featureRetrieval) {

  /** The fine-tuning settings that come from {@code DemoFinetune} rather than a task config file. */
  public static final String DEMO = "demo";

  public GridConfig {
    shared = shared == null ? Map.of() : new LinkedHashMap<>(shared);
    seeds = seeds == null ? List.of() : List.copyOf(seeds);
    variants = variants == null ? List.of() : List.copyOf(variants);
    itm = itm == null ? new Itm(null, null, null) : itm;
  }

  /** A prerequisite run made once (seed as its config says) and reused: its run config and overrides. */
  public record Shared(@JsonProperty(required = true) String run, ObjectNode overrides) {}

  /**
   * Fine-tuning of every cell's pre-trained model: {@code config} is {@code demo} (the demo's settings, the default) or
   * a task config file; {@code pipeline} replaces its {@code data.pipeline}, {@code steps} its {@code train.max_steps};
   * {@code overrides} are merged into it. The model and init are the cell's, the seed the cell's.
   */
  public record Finetune(String config, String pipeline, Integer steps, ObjectNode overrides) {
    public Finetune {
      config = config == null ? DEMO : config;
    }
  }

  /**
   * An optional second task per cell: image–text retrieval ({@code config}, a retrieval task config file) fine-tuned
   * from the cell's pre-trained weights ({@code steps} replaces its {@code train.max_steps}, {@code overrides} are
   * merged in, the seed is the cell's) and scored on its test split, R@1/5/10 both ways against the chance of random
   * scores; {@code max_pairs} > 0 scores the first that many pairs of the split (default 0: all; scoring is
   * images × texts forwards of the cross-encoder).
   */
  public record Retrieval(@JsonProperty(required = true) String config, Integer steps,
      @JsonProperty("max_pairs") int maxPairs, ObjectNode overrides) {}

  /**
   * An optional score per cell whose run trained MMKD-CLIP's ICL term with unimodal student features: its pre-trained
   * vision tower and ICL projection against each feature teacher's offline caption features of {@code split}
   * ({@code features}: the directory extract-features wrote, one sub-directory per teacher), image → text and text →
   * image R@10 against the chance of random scores (as {@code evaluate-features}). Cells without such a run have no
   * figure there.
   */
  public record FeatureRetrieval(@JsonProperty(required = true) String features, String split,
      @JsonProperty("batch_size") Integer batchSize) {
    public FeatureRetrieval {
      split = split == null ? "dev" : split;
      batchSize = batchSize == null ? 32 : batchSize;
    }
  }

  /**
   * One row of the table: a label, optionally another base run config, and overrides of the run config; or, with
   * {@code shared}, a shared run's weights as they are (no pre-training of its own): the teacher as a row of the
   * table, fine-tuned and scored like every cell with the cell's seed, so that seeds vary only its fine-tuning.
   */
  public record Variant(@JsonProperty(required = true) String label, String run, ObjectNode overrides, String shared) {}

  /** Image–text matching on held-out pairs of the pre-training pipeline (the demo's: split test, batch 32, seed 0). */
  public record Itm(String split, @JsonProperty("batch_size") Integer batchSize, Long seed) {
    public Itm {
      split = split == null ? "test" : split;
      batchSize = batchSize == null ? 32 : batchSize;
      seed = seed == null ? 0L : seed;
    }
  }

  /** The variant the others are compared with: {@code compare_to}, else the first. */
  public Variant reference() {
    if (compareTo == null) return variants.get(0);
    return variants.stream().filter(v -> v.label().equals(compareTo)).findFirst().orElseThrow();
  }

  public static GridConfig load(Path file) {
    GridConfig g = ModelConfigLoader.read(file, GridConfig.class);
    g.validate(file.toString());
    return g;
  }

  void validate(String src) {
    if (name == null || name.isBlank()) throw new ConfigException(src + ": key 'name': must not be empty");
    if (run == null || run.isBlank()) throw new ConfigException(src + ": key 'run': names the run config every cell starts from");
    if (finetune == null) throw new ConfigException(src + ": key 'finetune' has no value (e.g. {config: demo, steps: 400})");
    if (seeds.isEmpty()) throw new ConfigException(src + ": key 'seeds': needs at least one seed");
    if (new HashSet<>(seeds).size() != seeds.size()) throw new ConfigException(src + ": key 'seeds': " + seeds + " repeats a seed");
    if (variants.isEmpty()) throw new ConfigException(src + ": key 'variants': needs at least one variant");
    Set<String> slugs = new HashSet<>();
    for (int i = 0; i < variants.size(); i++) {
      Variant v = variants.get(i);
      if (v.label() == null || v.label().isBlank()) throw new ConfigException(src + ": key 'variants[" + i + "].label': must not be empty");
      if (!slugs.add(slug(v.label()))) {
        throw new ConfigException(src + ": key 'variants[" + i + "].label': '" + v.label() + "' names the same directory ("
            + slug(v.label()) + ") as an earlier variant");
      }
    }
    for (int i = 0; i < variants.size(); i++) {
      Variant v = variants.get(i);
      if (v.shared() == null) continue;
      if (!shared.containsKey(v.shared())) {
        throw new ConfigException(src + ": key 'variants[" + i + "].shared': '" + v.shared() + "' is not a shared run (has "
            + shared.keySet() + ")");
      }
      if (v.run() != null || v.overrides() != null) {
        throw new ConfigException(src + ": key 'variants[" + i + "].shared': a shared run's weights are used as they are; "
            + "'run' and 'overrides' do not apply");
      }
    }
    if (compareTo != null && variants.stream().noneMatch(v -> v.label().equals(compareTo))) {
      throw new ConfigException(src + ": key 'compare_to': '" + compareTo + "' is not a variant label");
    }
    if (finetune.steps() != null && finetune.steps() <= 0) throw new ConfigException(src + ": key 'finetune.steps': must be > 0");
    for (var e : shared.entrySet()) {
      String s = e.getKey();
      if (e.getValue() == null || e.getValue().run() == null) throw new ConfigException(src + ": key 'shared." + s + ".run': missing");
      if (!s.matches("[A-Za-z0-9_-]+")) throw new ConfigException(src + ": key 'shared." + s + "': names use letters, digits, - and _");
    }
    if (retrieval != null) {
      if (retrieval.steps() != null && retrieval.steps() <= 0) throw new ConfigException(src + ": key 'retrieval.steps': must be > 0");
      if (retrieval.maxPairs() < 0) throw new ConfigException(src + ": key 'retrieval.max_pairs': must be >= 0 (0: every pair)");
    }
    if (itm.batchSize() <= 0) throw new ConfigException(src + ": key 'itm.batch_size': must be > 0");
    if (featureRetrieval != null) {
      if (featureRetrieval.features() == null || featureRetrieval.features().isBlank()) {
        throw new ConfigException(src + ": key 'feature_retrieval.features': names the offline features of the split (e.g. features/medpix-dev)");
      }
      if (featureRetrieval.batchSize() <= 0) throw new ConfigException(src + ": key 'feature_retrieval.batch_size': must be > 0");
    }
  }

  /** A variant's directory name: lower case, runs of anything but letters and digits as one '-'. */
  public static String slug(String label) {
    String s = label.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("^-|-$", "");
    return s.isEmpty() ? "variant" : s;
  }
}
