package org.m3ae.train;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonUnwrapped;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.m3ae.data.BadRecordPolicy;
import org.m3ae.masking.ItmNegatives;
import org.m3ae.masking.MaskSource;
import org.m3ae.masking.MlmMasking;
import org.m3ae.model.ConfigException;
import org.m3ae.model.ModelConfigLoader;

/**
 * A pre-training run ({@code configs/runs/*.yaml}): which model to train, from which teacher (if any), on which
 * data, with which objectives, mask and optimiser. Paths are relative to the working directory.
 *
 * <p>Every default is applied once, when the record is built (the compact constructors here and {@link Optimization#of}):
 * code reads plain values. Left-out blocks ({@code objectives}, {@code kd}, {@code mask}) are their defaults; the only
 * defaults that depend on another key are {@code mask.source} (both with a teacher, else random) and
 * {@code lr_multipliers} ({@link Optimization#PRETRAINING_MULTIPLIERS}).
 */
public record RunConfig(
    @JsonProperty(required = true) String name,
    @JsonProperty(required = true) String model,
    Teacher teacher,
    @JsonProperty(value = "student_init") StudentInit studentInit,
    @JsonProperty(required = true) Data data,
    @JsonProperty(required = true) Train train,
    Objectives objectives,
    Kd kd,
    Mask mask,
    @JsonProperty("feature_kd") FeatureKd featureKd,
    Init init) {

  public RunConfig {
    objectives = objectives == null ? new Objectives(null, null, null, null, null) : objectives;
    kd = kd == null ? new Kd(null, null) : kd;
    mask = mask == null ? new Mask(null, null, null, null) : mask;
    // the default mask follows the teacher's attention where there is a teacher (paper §3.3, Table 7)
    if (mask.source() == null) {
      mask = new Mask(teacher != null ? MaskSource.BOTH : MaskSource.RANDOM, mask.rStart(), mask.rEnd(), mask.ratio());
    }
    studentInit = studentInit == null ? StudentInit.RANDOM : studentInit;
  }

  /** The same run distilling from other weights of the same teacher model (every other key kept, feature KD too). */
  public RunConfig withTeacherWeights(String weights) {
    if (teacher == null) throw new IllegalStateException(name + ": no teacher to point at " + weights);
    return new RunConfig(name, model, new Teacher(teacher.model(), weights), studentInit, data, train, objectives, kd,
        mask, featureKd, init);
  }

  /**
   * Weights the run starts from instead of random ones, in the parts named (default all): e.g. a pretrained BERT-family
   * encoder's file ({@code .onnx}, safetensors, {@code .bin}) with {@code parts: [text]} for a teacher whose text
   * tower starts pretrained, or a released M3AE checkpoint to continue pre-training. Every variable of those parts must
   * be in the file (the key map follows the file, as in {@code import}); the other parts start random. Applied at a
   * fresh start only: a resumed run continues from its checkpoint.
   */
  public record Init(@JsonProperty(required = true) String weights, List<org.m3ae.model.ModelPart> parts) {
    public Init {
      parts = parts == null ? List.of(org.m3ae.model.ModelPart.ALL) : List.copyOf(parts);
    }
  }

  /** The frozen teacher: its model config and a checkpoint of its weights (graph-layout safetensors or .sdz). */
  public record Teacher(@JsonProperty(required = true) String model, @JsonProperty(required = true) String weights) {}

  /**
   * Data: a pipeline definition, the split to train on (default train), the pipeline's root overridden (null: the
   * pipeline's own), loader threads (default 2), and what to do with bad records (default skip).
   */
  public record Data(
      String pipeline, String split, String root, int workers, @JsonProperty("on_bad_record") BadRecordPolicy onBadRecord) {

    /** The YAML keys; a key left out is null here and takes its default. */
    @JsonCreator
    public Data(
        @JsonProperty(value = "pipeline", required = true) String pipeline,
        @JsonProperty("split") String split,
        @JsonProperty("root") String root,
        @JsonProperty("workers") Integer workers,
        @JsonProperty("on_bad_record") BadRecordPolicy onBadRecord) {
      this(pipeline, split == null ? "train" : split, root, workers == null ? 2 : workers,
          onBadRecord == null ? BadRecordPolicy.SKIP : onBadRecord);
    }
  }

  /**
   * How the student's weights start (key {@code student_init}, default random): {@code teacher} copies the mapped
   * teacher layers (paper §4.3: the student's layers are initialised from the teacher's), {@code random} starts from
   * scratch.
   */
  public enum StudentInit {
    @JsonProperty("teacher") TEACHER,
    @JsonProperty("random") RANDOM
  }

  /** How a pre-training step differentiates (key {@code train.backward}). */
  public enum Backward {
    /**
     * One gradient call per pre-training pass, gradients summed, with sparse text (batch vocabulary, selected MLM
     * positions; docs/training.md): the default.
     */
    @JsonProperty("per_pass") PER_PASS,
    /** One call over MLM + MIM + ITM together. */
    @JsonProperty("joint") JOINT
  }

  /**
   * Pre-training's {@code train} block (paper §4.3; SPEC §2.6): steps and batch, the shared {@link Optimization} keys
   * (read flat from this block), MLM corruption (default M3AE's whole-word collator, SPEC §2.2), checkpoints (every
   * tenth of the configured steps, the last 3 kept), a JVM collection after every {@code gc_every} steps (default 1),
   * and the backward mode.
   */
  public record Train(
      int steps,
      @JsonProperty("batch_size") int batchSize,
      Optimization optimization,
      @JsonProperty("mlm_masking") MlmMasking mlmMasking,
      @JsonProperty("itm_negatives") ItmNegatives itmNegatives,
      @JsonProperty("itm_candidates") int itmCandidates,
      @JsonProperty("checkpoint_every") int checkpointEvery,
      @JsonProperty("keep_checkpoints") int keepCheckpoints,
      @JsonProperty("gc_every") int gcEvery,
      Backward backward) {

    /** The YAML keys; a key left out is null here and takes its default. */
    @JsonCreator
    public Train(
        @JsonProperty(value = "steps", required = true) int steps,
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
        @JsonProperty("mlm_masking") MlmMasking mlmMasking,
        @JsonProperty("itm_negatives") ItmNegatives itmNegatives,
        @JsonProperty("itm_candidates") Integer itmCandidates,
        @JsonProperty("seed") Long seed,
        @JsonProperty("dropout") Boolean dropout,
        @JsonProperty("checkpoint_every") Integer checkpointEvery,
        @JsonProperty("keep_checkpoints") Integer keepCheckpoints,
        @JsonProperty("gc_every") Integer gcEvery,
        @JsonProperty("backward") Backward backward,
        @JsonProperty("executor") Executor executor) {
      this(steps, batchSize,
          Optimization.of(lr, lrMultipliers, Optimization.PRETRAINING_MULTIPLIERS, accumulate, weightDecay, betas, eps,
              warmup, clipNorm, noDecay, seed, dropout, executor),
          mlmMasking == null ? MlmMasking.WHOLE_WORD : mlmMasking,
          itmNegatives == null ? ItmNegatives.RANDOM : itmNegatives,
          itmCandidates == null ? 16 : itmCandidates,
          checkpointEvery == null ? Math.max(1, steps / 10) : checkpointEvery,
          keepCheckpoints == null ? 3 : keepCheckpoints,
          gcEvery == null ? 1 : gcEvery,
          backward == null ? Backward.PER_PASS : backward);
    }

    /** The optimisation keys sit in {@code train} itself, beside {@code steps}: written back flat. */
    @Override
    @JsonUnwrapped
    public Optimization optimization() {
      return optimization;
    }
  }

  /**
   * Loss weights (paper §3: all 1). {@code mlm_kd} and {@code itm_kd}, EfficientVLM's logit KD on the MLM and ITM heads
   * (issue 18 §2), default to 0: a config that does not name them keeps the paper's objective. {@code fd} and {@code icl} weigh MMKD-CLIP's feature terms when {@code feature_kd}
   * is configured (its code weighs FD by 50 and ICL by 1, SPEC §10; here 1 unless set).
   */
  public record Objectives(Double mlm, Double mim, Double itm, Double hid, Double attn, Double fd, Double icl,
      @JsonProperty("mlm_kd") Double mlmKd, @JsonProperty("itm_kd") Double itmKd) {
    public Objectives {
      mlm = mlm == null ? 1.0 : mlm;
      mim = mim == null ? 1.0 : mim;
      itm = itm == null ? 1.0 : itm;
      hid = hid == null ? 1.0 : hid;
      attn = attn == null ? 1.0 : attn;
      fd = fd == null ? 1.0 : fd;
      icl = icl == null ? 1.0 : icl;
      mlmKd = mlmKd == null ? 0.0 : mlmKd;
      itmKd = itmKd == null ? 0.0 : itmKd;
    }

    public Objectives(Double mlm, Double mim, Double itm, Double hid, Double attn) {
      this(mlm, mim, itm, hid, attn, null, null, null, null);
    }

    public Objectives(Double mlm, Double mim, Double itm, Double hid, Double attn, Double fd, Double icl) {
      this(mlm, mim, itm, hid, attn, fd, icl, null, null);
    }

    /** The weight of one term of the total. */
    public double weight(LossTerm term) {
      return switch (term) {
        case MLM -> mlm;
        case MIM -> mim;
        case ITM -> itm;
        case HID -> hid;
        case ATTN -> attn;
        case FD -> fd;
        case ICL -> icl;
        case MLM_KD -> mlmKd;
        case ITM_KD -> itmKd;
      };
    }
  }

  /** Which student feature a teacher's text and image features are compared with (SPEC §10). */
  public enum StudentFeatures {
    /** The student's own encoders: text CLS after the text encoder, image CLS after the ViT — a CLIP student's embeddings. */
    @JsonProperty("unimodal") UNIMODAL,
    /** The fusion poolers' outputs ({@code pooled.text}, {@code pooled.image}), which have seen the other modality. */
    @JsonProperty("fused") FUSED
  }

  /**
   * MMKD-CLIP's multi-teacher distillation from offline features (SPEC §10): one entry per teacher, each a directory
   * written by {@code extract-features}. The joint feature, where a teacher has one, is always compared with the
   * student's joint feature.
   */
  public record FeatureKd(@JsonProperty(required = true) List<FeatureTeacher> teachers, StudentFeatures student) {
    public FeatureKd {
      teachers = teachers == null ? List.of() : List.copyOf(teachers);
      student = student == null ? StudentFeatures.UNIMODAL : student;
    }
  }

  /**
   * One offline teacher: a name (metric suffix, graph-variable scope), its feature directory, its weight in the FD
   * and ICL sums, and which of its feature kinds to distil (default: every kind the directory holds).
   */
  public record FeatureTeacher(@JsonProperty(required = true) String name, @JsonProperty(required = true) String features,
      Double weight, List<FeatureKind> kinds) {
    public FeatureTeacher {
      weight = weight == null ? 1.0 : weight;
      kinds = kinds == null ? null : List.copyOf(kinds);
    }
  }

  /**
   * Knowledge distillation: on/off, optional explicit attention partners per stack (teacher layer indices), and the
   * form of the KD terms (issue 18 §2; docs/training.md "Distillation terms"). Left out, every part keeps the paper's
   * literal form (§3.2): MSE on post-softmax maps, all stacks weighted 1, no logit KD temperature needed, plain sum.
   * Defaults are applied here, once, when the config is read.
   *
   * @param enabled default true: KD runs whenever there is a teacher ({@link #kdEnabled})
   * @param layers null: the paper's layer mapping ({@code KdMapping})
   * @param alpha null: total = Σ weighted terms (the paper); α in [0, 1]: total = (1 − α)·task + α·KD, task = MLM,
   *     MIM, ITM, KD = every distillation term (EfficientVLM {@code GeneralDistill.py}: 0.6·task + 0.4·KD, α = 0.4)
   */
  public record Kd(Boolean enabled, Map<String, List<Integer>> layers, KdAttention attention, KdHidden hidden,
      KdLogits logits, Double alpha) {
    public Kd {
      enabled = enabled == null || enabled;
      attention = attention == null ? new KdAttention(null, null, null) : attention;
      hidden = hidden == null ? new KdHidden(null) : hidden;
      logits = logits == null ? new KdLogits(null) : logits;
    }

    public Kd(Boolean enabled, Map<String, List<Integer>> layers) {
      this(enabled, layers, null, null, null, null);
    }
  }

  /** What attention KD compares (key {@code kd.attention.form}). */
  public enum AttentionForm {
    /** MSE between post-softmax maps, head-averaged when head counts differ: the paper's literal L_attn (§3.2.2). */
    @JsonProperty("probs") PROBS,
    /**
     * MSE between pre-softmax scores Q·Kᵀ/√d_h with padded keys zeroed in both, as EfficientVLM's {@code get_kd_loss}
     * (it zeroes entries ≤ −100, i.e. those carrying the additive mask).
     */
    @JsonProperty("scores") SCORES,
    /** KL(A_T ‖ A_S) over the keys of each query, on probabilities, averaged over heads and queries. */
    @JsonProperty("kl") KL
  }

  /** Factor on each attention layer pair's term (key {@code kd.attention.scale}). */
  public enum AttentionScale {
    @JsonProperty("none") NONE,
    /** × the number of keys L_k, as EfficientVLM ({@code loss(student_att, teacher_att) * student_att.shape[-1]}). */
    @JsonProperty("keys") KEYS
  }

  /** A weight per distilled stream; {@code fusion} weighs both co-attention streams. Each defaults to 1. */
  public record StackWeights(Double vision, Double text, Double fusion) {
    public StackWeights {
      vision = vision == null ? 1.0 : vision;
      text = text == null ? 1.0 : text;
      fusion = fusion == null ? 1.0 : fusion;
    }
  }

  /** Attention KD: form (default {@code probs}), scale (default {@code none}), per-stream weights (default 1). */
  public record KdAttention(AttentionForm form, AttentionScale scale, StackWeights weights) {
    public KdAttention {
      form = form == null ? AttentionForm.PROBS : form;
      scale = scale == null ? AttentionScale.NONE : scale;
      weights = weights == null ? new StackWeights(null, null, null) : weights;
    }
  }

  /** Hidden-state KD: per-stream weights (EfficientVLM weighs its image term 0.1). */
  public record KdHidden(StackWeights weights) {
    public KdHidden {
      weights = weights == null ? new StackWeights(null, null, null) : weights;
    }
  }

  /** Logit KD ({@code objectives.mlm_kd}, {@code objectives.itm_kd}): KL at temperature T (default 1). */
  public record KdLogits(Double temperature) {
    public KdLogits {
      temperature = temperature == null ? 1.0 : temperature;
    }
  }

  /**
   * MIM mask (paper §3.3): {@code source} random | student | teacher | both (default: both with a teacher, else random;
   * filled in by {@link RunConfig}); r falls linearly from r_start (0.95) to r_end (0.30); {@code ratio} is the total
   * masked share (M3AE 0.75).
   */
  public record Mask(MaskSource source, @JsonProperty("r_start") Double rStart, @JsonProperty("r_end") Double rEnd, Double ratio) {
    public Mask {
      rStart = rStart == null ? 0.95 : rStart;
      rEnd = rEnd == null ? 0.30 : rEnd;
      ratio = ratio == null ? 0.75 : ratio;
    }

    /** {@code source} with the paper's schedule and M3AE's ratio (r 0.95 → 0.30, 75 % masked). */
    public static Mask of(MaskSource source) {
      return new Mask(source, null, null, null);
    }
  }

  public static RunConfig load(Path file) {
    RunConfig c = ModelConfigLoader.read(file, RunConfig.class);
    c.validate(file.toString());
    return c;
  }

  public double weight(LossTerm term) {
    return objectives.weight(term);
  }

  /** Feature KD is on when {@code feature_kd} names at least one teacher. */
  public boolean featureKdEnabled() {
    return featureKd != null && !featureKd.teachers().isEmpty();
  }

  /** KD is on when a teacher is configured, unless {@code kd.enabled: false}. */
  public boolean kdEnabled() {
    return teacher != null && kd.enabled();
  }

  private static void checkStackWeights(String src, String key, StackWeights w) {
    Map<String, Double> m = new java.util.LinkedHashMap<>();
    m.put("vision", w.vision());
    m.put("text", w.text());
    m.put("fusion", w.fusion());
    for (var e : m.entrySet()) {
      if (!(e.getValue() >= 0)) throw new ConfigException(src + ": key '" + key + "." + e.getKey() + "': must be >= 0, got " + e.getValue());
    }
  }

  void validate(String src) {
    if (train.steps() <= 0) throw new ConfigException(src + ": key 'train.steps': must be > 0");
    if (train.batchSize() <= 0) throw new ConfigException(src + ": key 'train.batch_size': must be > 0");
    if (train.itmCandidates() < 1) throw new ConfigException(src + ": key 'train.itm_candidates': must be >= 1, got " + train.itmCandidates());
    train.optimization().validate(src);
    if (mask.source().needsTeacher() && teacher == null) {
      throw new ConfigException(src + ": key 'mask.source': '" + mask.source().key() + "' needs a teacher");
    }
    double rStart = mask.rStart(), rEnd = mask.rEnd(), ratio = mask.ratio();
    if (!(rStart >= 0 && rStart <= 1 && rEnd >= 0 && rEnd <= 1)) {
      throw new ConfigException(src + ": keys 'mask.r_start'/'mask.r_end': must lie in [0, 1]");
    }
    if (!(ratio > 0 && ratio < 1)) throw new ConfigException(src + ": key 'mask.ratio': must lie in (0, 1)");
    if (1 - rEnd > ratio) {
      throw new ConfigException(src + ": key 'mask.r_end': the high-attention share 1 − r_end = " + (1 - rEnd)
          + " exceeds the masked share " + ratio);
    }
    if (init != null) {
      if (init.parts().isEmpty()) throw new ConfigException(src + ": key 'init.parts': empty; leave it out for all parts");
      if (studentInit == StudentInit.TEACHER) {
        throw new ConfigException(src + ": keys 'init' and 'student_init: teacher' both initialise the model: keep one");
      }
    }
    if (featureKd != null) {
      if (featureKd.teachers().isEmpty()) throw new ConfigException(src + ": key 'feature_kd.teachers': needs at least one teacher");
      java.util.Set<String> names = new java.util.HashSet<>();
      for (int i = 0; i < featureKd.teachers().size(); i++) {
        FeatureTeacher t = featureKd.teachers().get(i);
        String key = src + ": key 'feature_kd.teachers[" + i + "]";
        if (!t.name().matches("[a-z0-9_]+")) throw new ConfigException(key + ".name': '" + t.name() + "' must match [a-z0-9_]+ (it names metrics and graph variables)");
        if (!names.add(t.name())) throw new ConfigException(key + ".name': '" + t.name() + "' is used twice");
        if (!(t.weight() >= 0)) throw new ConfigException(key + ".weight': must be >= 0");
        if (t.kinds() != null && t.kinds().isEmpty()) throw new ConfigException(key + ".kinds': empty; leave it out for every kind");
      }
    }
    if (kd.alpha() != null && !(kd.alpha() >= 0 && kd.alpha() <= 1)) {
      throw new ConfigException(src + ": key 'kd.alpha': must lie in [0, 1] (total = (1 − α)·task + α·KD), got " + kd.alpha());
    }
    if (!(kd.logits().temperature() > 0)) {
      throw new ConfigException(src + ": key 'kd.logits.temperature': must be > 0, got " + kd.logits().temperature());
    }
    checkStackWeights(src, "kd.attention.weights", kd.attention().weights());
    checkStackWeights(src, "kd.hidden.weights", kd.hidden().weights());
    for (LossTerm t : List.of(LossTerm.MLM_KD, LossTerm.ITM_KD)) {
      if (weight(t) != 0 && teacher == null) {
        throw new ConfigException(src + ": key 'objectives." + t.key() + "': logit KD needs a teacher");
      }
    }
    for (LossTerm t : LossTerm.values()) {
      if (!(weight(t) >= 0)) throw new ConfigException(src + ": key 'objectives." + t.key() + "': must be >= 0");
    }
  }
}
