package org.m3ae.tasks;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonUnwrapped;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.m3ae.data.BadRecordPolicy;
import org.m3ae.data.vqa.AnswerOrder;
import org.m3ae.model.ConfigException;
import org.m3ae.model.ModelConfigLoader;
import org.m3ae.train.Executor;
import org.m3ae.train.LrGroup;
import org.m3ae.train.NoDecay;
import org.m3ae.train.Optimization;

/**
 * A fine-tuning run ({@code configs/runs/finetune-*.yaml}, {@code vqa-*.yaml}, {@code retrieval-*.yaml}): the task,
 * the model, the data with its train / validation / test splits, and the optimiser (SPEC §5). Paths are relative
 * to the working directory.
 *
 * <p>Every default is applied once, when the record is built (the compact constructors here and {@link Optimization#of}):
 * code reads plain values. Fine-tuning's {@code lr_multipliers} default is {@link Optimization#FINETUNING_MULTIPLIERS}.
 */
public record TaskConfig(
    @JsonProperty(required = true) String name,
    @JsonProperty(required = true) String task,
    @JsonProperty(required = true) String model,
    String init,
    @JsonProperty(required = true) Data data,
    @JsonProperty(required = true) Train train,
    Eval eval) {

  public TaskConfig {
    eval = eval == null ? Eval.DEFAULTS : eval;
  }

  /**
   * Data. {@code val_split} names a validation split of the pipeline; without one, {@code val_fraction} (default 0.1)
   * of {@code train_split} (default train) is carved off with {@code val_seed} (default 0) (VQA-RAD has no validation
   * split, and M3AE's is a copy of test, SPEC §9: selecting on it would be selecting on test). {@code test_split}
   * defaults to test, {@code workers} to 2, {@code on_bad_record} to skip; {@code root} (null: the pipeline's own),
   * {@code vocab_splits} and {@code answer_order} (null: the pipeline's {@code vqa.vocab_splits} and
   * {@code vqa.answer_order}) override the pipeline.
   */
  public record Data(
      String pipeline,
      String root,
      int workers,
      @JsonProperty("on_bad_record") BadRecordPolicy onBadRecord,
      @JsonProperty("train_split") String trainSplit,
      @JsonProperty("val_split") String valSplit,
      @JsonProperty("val_fraction") double valFraction,
      @JsonProperty("val_seed") long valSeed,
      @JsonProperty("test_split") String testSplit,
      @JsonProperty("vocab_splits") List<String> vocabSplits,
      @JsonProperty("answer_order") AnswerOrder answerOrder) {

    /** The YAML keys; a key left out is null here and takes its default. */
    @JsonCreator
    public Data(
        @JsonProperty(value = "pipeline", required = true) String pipeline,
        @JsonProperty("root") String root,
        @JsonProperty("workers") Integer workers,
        @JsonProperty("on_bad_record") BadRecordPolicy onBadRecord,
        @JsonProperty("train_split") String trainSplit,
        @JsonProperty("val_split") String valSplit,
        @JsonProperty("val_fraction") Double valFraction,
        @JsonProperty("val_seed") Long valSeed,
        @JsonProperty("test_split") String testSplit,
        @JsonProperty("vocab_splits") List<String> vocabSplits,
        @JsonProperty("answer_order") AnswerOrder answerOrder) {
      this(pipeline, root, workers == null ? 2 : workers, onBadRecord == null ? BadRecordPolicy.SKIP : onBadRecord,
          trainSplit == null ? "train" : trainSplit, valSplit, valFraction == null ? 0.1 : valFraction,
          valSeed == null ? 0L : valSeed, testSplit == null ? "test" : testSplit, vocabSplits, answerOrder);
    }
  }

  /**
   * Fine-tuning's {@code train} block (SPEC §2.6, §5): epochs and batch, the shared {@link Optimization} keys (read flat
   * from this block; AdamW, warm-up + linear decay, per-group learning-rate multipliers), a cap on the steps (null:
   * the epochs decide), ITM negatives per image for retrieval (M3AE's draw_false_text = 15), validation every
   * {@code validate_every} steps (null: once per epoch), frozen text embeddings, and checkpoints for {@code --resume}
   * every {@code checkpoint_every} steps (null: at every validation, so that a checkpoint holds the selection's state
   * as of its step) keeping the last {@code keep_checkpoints} (default 2).
   *
   * @param freezeEmbeddings keep the text word and position embedding tables fixed and train on the gather-based graph
   *     (no dropout). With a RoBERTa-size vocabulary (50265) the trainable graph's one-hot embedding product dominates
   *     a CPU step (docs/dl4j.md); frozen tables make fine-tuning of the small CPU models affordable. Default false.
   */
  public record Train(
      int epochs,
      @JsonProperty("batch_size") int batchSize,
      Optimization optimization,
      @JsonProperty("max_steps") Integer maxSteps,
      int negatives,
      @JsonProperty("validate_every") Integer validateEvery,
      @JsonProperty("freeze_embeddings") boolean freezeEmbeddings,
      @JsonProperty("gc_every") int gcEvery,
      @JsonProperty("checkpoint_every") Integer checkpointEvery,
      @JsonProperty("keep_checkpoints") int keepCheckpoints) {

    /** The YAML keys; a key left out is null here and takes its default. */
    @JsonCreator
    public Train(
        @JsonProperty(value = "epochs", required = true) int epochs,
        @JsonProperty(value = "batch_size", required = true) int batchSize,
        @JsonProperty("accumulate") Integer accumulate,
        @JsonProperty(value = "lr", required = true) double lr,
        @JsonProperty("lr_multipliers") Map<LrGroup, Double> lrMultipliers,
        @JsonProperty("weight_decay") Double weightDecay,
        @JsonProperty("betas") List<Double> betas,
        @JsonProperty("eps") Double eps,
        @JsonProperty("warmup") Double warmup,
        @JsonProperty("clip_norm") Double clipNorm,
        @JsonProperty("no_decay") NoDecay noDecay,
        @JsonProperty("seed") Long seed,
        @JsonProperty("dropout") Boolean dropout,
        @JsonProperty("max_steps") Integer maxSteps,
        @JsonProperty("negatives") Integer negatives,
        @JsonProperty("validate_every") Integer validateEvery,
        @JsonProperty("freeze_embeddings") Boolean freezeEmbeddings,
        @JsonProperty("executor") Executor executor,
        @JsonProperty("gc_every") Integer gcEvery,
        @JsonProperty("checkpoint_every") Integer checkpointEvery,
        @JsonProperty("keep_checkpoints") Integer keepCheckpoints) {
      this(epochs, batchSize,
          Optimization.of(lr, lrMultipliers, Optimization.FINETUNING_MULTIPLIERS, accumulate, weightDecay, betas, eps,
              warmup, clipNorm, noDecay, seed, dropout, executor),
          maxSteps,
          negatives == null ? 15 : negatives,
          validateEvery,
          freezeEmbeddings != null && freezeEmbeddings,
          gcEvery == null ? 1 : gcEvery,
          checkpointEvery,
          keepCheckpoints == null ? 2 : keepCheckpoints);
    }

    /** The optimisation keys sit in {@code train} itself, beside {@code epochs}: written back flat. */
    @Override
    @JsonUnwrapped
    public Optimization optimization() {
      return optimization;
    }

    /** The same block with another seed (a command line's {@code --seed}). */
    public Train withSeed(long seed) {
      return new Train(epochs, batchSize, optimization.withSeed(seed), maxSteps, negatives, validateEvery, freezeEmbeddings, gcEvery,
          checkpointEvery, keepCheckpoints);
    }
  }

  /**
   * Evaluation: batch size (default 64); for retrieval the chunk of pairs scored per forward (default 256) and, when
   * {@code rerank_k} > 0, the fast mode's shortlist size (default 0: score every pair).
   */
  public record Eval(@JsonProperty("batch_size") int batchSize, int chunk, @JsonProperty("rerank_k") int rerankK) {

    /** Every default. */
    public static final Eval DEFAULTS = new Eval(null, null, null);

    /** The YAML keys; a key left out is null here and takes its default. */
    @JsonCreator
    public Eval(
        @JsonProperty("batch_size") Integer batchSize, @JsonProperty("chunk") Integer chunk,
        @JsonProperty("rerank_k") Integer rerankK) {
      this(batchSize == null ? 64 : batchSize, chunk == null ? 256 : chunk, rerankK == null ? 0 : rerankK);
    }
  }

  /** The same settings for another run: its name, model config and step cap (the demo fine-tunes three models so). */
  public TaskConfig forRun(String runName, String modelConfig, int maxSteps) {
    Train t = new Train(train.epochs(), train.batchSize(), train.optimization(), maxSteps, train.negatives(),
        train.validateEvery(), train.freezeEmbeddings(), train.gcEvery(), train.checkpointEvery(), train.keepCheckpoints());
    return new TaskConfig(runName, task, modelConfig, init, data, t, eval);
  }

  public TaskKind kind() {
    return TaskKind.parse(task, name);
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
    train.optimization().validate(src);
    if (train.negatives() < 1) throw new ConfigException(src + ": key 'train.negatives': must be ≥ 1");
    if (train.checkpointEvery() != null && train.checkpointEvery() < 1) {
      throw new ConfigException(src + ": key 'train.checkpoint_every': must be ≥ 1 (leave it out to checkpoint at every validation)");
    }
    if (train.keepCheckpoints() < 1) throw new ConfigException(src + ": key 'train.keep_checkpoints': must be ≥ 1");
    if (data.valSplit() == null && !(data.valFraction() > 0 && data.valFraction() < 0.5)) {
      throw new ConfigException(src + ": key 'data.val_fraction': a fraction in (0, 0.5)");
    }
    if (data.valSplit() != null && data.valSplit().equals(data.testSplit())) {
      throw new ConfigException(src + ": key 'data.val_split': model selection on the test split '" + data.testSplit()
          + "' is not allowed; name another split or leave it out to carve one from train");
    }
  }
}
