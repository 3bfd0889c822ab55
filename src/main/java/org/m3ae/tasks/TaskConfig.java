package org.m3ae.tasks;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.m3ae.data.vqa.AnswerOrder;
import org.m3ae.model.ConfigException;
import org.m3ae.model.ModelConfigLoader;

/**
 * A fine-tuning run ({@code configs/runs/finetune-*.yaml}, {@code vqa-*.yaml}, {@code retrieval-*.yaml}): the task,
 * the model, the data with its train / validation / test splits, and the optimiser (SPEC §5). Paths are relative
 * to the working directory.
 */
public record TaskConfig(
    @JsonProperty(required = true) String name,
    @JsonProperty(required = true) String task,
    @JsonProperty(required = true) String model,
    String init,
    @JsonProperty(required = true) Data data,
    @JsonProperty(required = true) Train train,
    Eval eval) {

  /**
   * Data. {@code val_split} names a validation split of the pipeline; without one, {@code val_fraction} of
   * {@code train_split} is carved off with {@code val_seed} (VQA-RAD has no validation split, and M3AE's is a copy of
   * test, SPEC §9: selecting on it would be selecting on test). {@code vocab_splits} and {@code answer_order} override
   * the pipeline's {@code vqa.vocab_splits} and {@code vqa.answer_order}.
   */
  public record Data(
      @JsonProperty(required = true) String pipeline,
      String root,
      Integer workers,
      @JsonProperty("on_bad_record") String onBadRecord,
      @JsonProperty("train_split") String trainSplit,
      @JsonProperty("val_split") String valSplit,
      @JsonProperty("val_fraction") Double valFraction,
      @JsonProperty("val_seed") Long valSeed,
      @JsonProperty("test_split") String testSplit,
      @JsonProperty("vocab_splits") List<String> vocabSplits,
      @JsonProperty("answer_order") AnswerOrder answerOrder) {
    public String trainSplitOr() {
      return trainSplit == null ? "train" : trainSplit;
    }

    public String testSplitOr() {
      return testSplit == null ? "test" : testSplit;
    }

    public double valFractionOr() {
      return valFraction == null ? 0.1 : valFraction;
    }

    public long valSeedOr() {
      return valSeed == null ? 0 : valSeed;
    }

    public int workersOr() {
      return workers == null ? 2 : workers;
    }
  }

  /** Optimisation (SPEC §2.6, §5): AdamW, warm-up + linear decay, per-group learning-rate multipliers. */
  public record Train(
      @JsonProperty(required = true) int epochs,
      @JsonProperty(value = "batch_size", required = true) int batchSize,
      Integer accumulate,
      @JsonProperty(required = true) double lr,
      @JsonProperty("lr_multipliers") Map<String, Double> lrMultipliers,
      @JsonProperty("weight_decay") Double weightDecay,
      List<Double> betas,
      Double warmup,
      @JsonProperty("clip_norm") Double clipNorm,
      @JsonProperty("no_decay") org.m3ae.train.NoDecay noDecay,
      Long seed,
      Boolean dropout,
      @JsonProperty("max_steps") Integer maxSteps,
      Integer negatives,
      @JsonProperty("validate_every") Integer validateEvery,
      @JsonProperty("freeze_embeddings") Boolean freezeEmbeddings,
      org.m3ae.train.Executor executor) implements org.m3ae.train.TrainDefaults {
    /**
     * Keep the text word and position embedding tables fixed and train on the gather-based graph (no dropout). With a
     * RoBERTa-size vocabulary (50265) the trainable graph's one-hot embedding product dominates a CPU step
     * (docs/dl4j.md); frozen tables make fine-tuning of the small CPU models affordable.
     */
    public boolean freezeEmbeddingsOr() {
      return freezeEmbeddings != null && freezeEmbeddings;
    }

    public double multiplier(String group) {
      if (lrMultipliers == null) return 1.0;
      return lrMultipliers.getOrDefault(group, 1.0);
    }

    /** M3AE's draw_false_text = 15 (SPEC §2.5). */
    public int negativesOr() {
      return negatives == null ? 15 : negatives;
    }
  }

  /**
   * Evaluation: batch size; for retrieval the chunk of pairs scored per forward and, when {@code rerank_k} > 0, the
   * fast mode's shortlist size.
   */
  public record Eval(@JsonProperty("batch_size") Integer batchSize, Integer chunk, @JsonProperty("rerank_k") Integer rerankK) {}

  public TaskKind kind() {
    return TaskKind.parse(task, name);
  }

  public int evalBatchOr() {
    return eval == null || eval.batchSize() == null ? 64 : eval.batchSize();
  }

  public int chunkOr() {
    return eval == null || eval.chunk() == null ? 256 : eval.chunk();
  }

  public int rerankKOr() {
    return eval == null || eval.rerankK() == null ? 0 : eval.rerankK();
  }

  public static TaskConfig load(Path file) {
    TaskConfig c = ModelConfigLoader.read(file, TaskConfig.class);
    c.validate(file.toString());
    return c;
  }

  void validate(String src) {
    TaskKind.parse(task, src);
    if (train.epochs() <= 0) throw new ConfigException(src + ": key 'train.epochs': must be > 0");
    if (train.batchSize() <= 0) throw new ConfigException(src + ": key 'train.batch_size': must be > 0");
    if (train.accumulateOr() <= 0) throw new ConfigException(src + ": key 'train.accumulate': must be > 0");
    if (!(train.lr() > 0)) throw new ConfigException(src + ": key 'train.lr': must be > 0");
    if (train.betas() != null && train.betas().size() != 2) throw new ConfigException(src + ": key 'train.betas': needs two values");
    if (train.warmupOr() < 0 || train.warmupOr() >= 1) throw new ConfigException(src + ": key 'train.warmup': a fraction in [0, 1)");
    if (train.lrMultipliers() != null) {
      for (String g : train.lrMultipliers().keySet()) {
        if (!List.of("backbone", "fusion", "heads").contains(g)) {
          throw new ConfigException(src + ": key 'train.lr_multipliers." + g + "': unknown group (backbone, fusion, heads)");
        }
      }
    }
    if (train.clipNormOr() < 0) throw new ConfigException(src + ": key 'train.clip_norm': must be ≥ 0 (0 = no clipping)");
    if (train.negativesOr() < 1) throw new ConfigException(src + ": key 'train.negatives': must be ≥ 1");
    if (data.valSplit() == null && !(data.valFractionOr() > 0 && data.valFractionOr() < 0.5)) {
      throw new ConfigException(src + ": key 'data.val_fraction': a fraction in (0, 0.5)");
    }
    if (data.onBadRecord() != null && !List.of("skip", "fail").contains(data.onBadRecord())) {
      throw new ConfigException(src + ": key 'data.on_bad_record': 'skip' or 'fail'");
    }
    if (data.valSplit() != null && data.valSplit().equals(data.testSplitOr())) {
      throw new ConfigException(src + ": key 'data.val_split': model selection on the test split '" + data.testSplitOr()
          + "' is not allowed; name another split or leave it out to carve one from train");
    }
  }
}
