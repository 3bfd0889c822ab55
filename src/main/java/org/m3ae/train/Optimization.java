package org.m3ae.train;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.m3ae.model.ConfigException;

/**
 * The optimisation settings pre-training and fine-tuning share: the {@code train:} keys below, read flat from each
 * config's {@code train} block, with every default already applied by {@link #of}. What a config leaves out is
 * M3AE's (m3ae_utils.py {@code set_schedule}, config.py, main.py): AdamW betas 0.9/0.98, eps 1e-8 and weight decay
 * 0.01 with M3AE's no-decay substrings, 10 % warm-up, no gradient clipping (M3AE's Lightning Trainer sets no
 * {@code gradient_clip_val}), seed 0, dropout on, no accumulation; gradient calls through replayed plans.
 *
 * <p>The one default that depends on the kind of run is {@code lr_multipliers} when the key is left out altogether:
 * see {@link #PRETRAINING_MULTIPLIERS} and {@link #FINETUNING_MULTIPLIERS}. A group left out of a given
 * {@code lr_multipliers} map trains at ×1 in both, except the towers ({@code vision}, {@code text}), which take
 * {@code backbone}'s multiplier.
 *
 * @param lr peak learning rate of the warm-up + linear-decay schedule
 * @param lrMultipliers a factor on {@code lr} for every group (all present)
 * @param accumulate micro-batches per optimiser step
 * @param betas AdamW's β1, β2 (two values)
 * @param eps AdamW's ε
 * @param warmup the share of the steps spent warming up, in [0, 1)
 * @param clipNorm global gradient-norm clip; 0 = off
 * @param noDecay which parameters AdamW leaves undecayed
 * @param seed the data order's and the dropout masks' seed
 * @param dropout whether the model's dropout is on while training
 * @param executor plans (default) or SameDiff's session for every gradient call (docs/performance.md)
 */
public record Optimization(
    double lr,
    @JsonProperty("lr_multipliers") Map<LrGroup, Double> lrMultipliers,
    int accumulate,
    @JsonProperty("weight_decay") double weightDecay,
    List<Double> betas,
    double eps,
    double warmup,
    @JsonProperty("clip_norm") double clipNorm,
    @JsonProperty("no_decay") NoDecay noDecay,
    long seed,
    boolean dropout,
    Executor executor) {

  /**
   * Pre-training without {@code lr_multipliers}: fusion and heads ×5, M3AE's pre-training ratios
   * ({@code lr_multiplier_multi_modal = 5}, {@code lr_multiplier_head = 5}) and the paper's §4.3.
   */
  public static final Map<LrGroup, Double> PRETRAINING_MULTIPLIERS = multipliers(1, 5, 5);

  /**
   * Fine-tuning without {@code lr_multipliers}: every group ×1. M3AE's fine-tuning configs set their own ratios per
   * task; every fine-tuning config here names them.
   */
  public static final Map<LrGroup, Double> FINETUNING_MULTIPLIERS = multipliers(1, 1, 1);

  public Optimization {
    lrMultipliers = Collections.unmodifiableMap(new EnumMap<>(lrMultipliers));
    betas = List.copyOf(betas);
  }

  /**
   * The settings of a config's {@code train} block, each argument its key's value or null where the key was left
   * out; the defaults are applied here, once.
   *
   * @param whenLeftOut the multipliers when {@code lr_multipliers} is left out ({@link #PRETRAINING_MULTIPLIERS} or
   *     {@link #FINETUNING_MULTIPLIERS})
   */
  public static Optimization of(double lr, Map<LrGroup, Double> lrMultipliers, Map<LrGroup, Double> whenLeftOut,
      Integer accumulate, Double weightDecay, List<Double> betas, Double eps, Double warmup, Double clipNorm,
      NoDecay noDecay, Long seed, Boolean dropout, Executor executor) {
    Map<LrGroup, Double> m = new EnumMap<>(LrGroup.class);
    for (LrGroup g : LrGroup.values()) {
      // a tower left out of a given map follows backbone (the left-out maps already say so)
      double unnamed = g.tower() && lrMultipliers != null ? lrMultipliers.getOrDefault(LrGroup.BACKBONE, 1.0) : 1.0;
      m.put(g, lrMultipliers == null ? whenLeftOut.get(g) : lrMultipliers.getOrDefault(g, unnamed));
    }
    return new Optimization(lr, m,
        accumulate == null ? 1 : accumulate,
        weightDecay == null ? 0.01 : weightDecay,
        betas == null ? List.of(0.9, 0.98) : betas,
        eps == null ? 1e-8 : eps,
        warmup == null ? 0.1 : warmup,
        clipNorm == null ? 0.0 : clipNorm,
        noDecay == null ? NoDecay.M3AE : noDecay,
        seed == null ? 0 : seed,
        dropout == null || dropout,
        executor == null ? Executor.PLAN : executor);
  }

  public double multiplier(LrGroup group) {
    return lrMultipliers.get(group);
  }

  public double beta1() {
    return betas.get(0);
  }

  public double beta2() {
    return betas.get(1);
  }

  /** AdamW with these betas, ε, weight decay and no-decay rule. */
  public AdamW.Settings adamW() {
    return new AdamW.Settings(beta1(), beta2(), eps, weightDecay, noDecay);
  }

  /** Warm-up over {@link #warmup} of {@code steps}, then linear decay to 0, peaking at {@link #lr}. */
  public LrSchedule schedule(int steps) {
    return LrSchedule.of(lr, warmup, steps);
  }

  /** The same settings with another seed (a command line's {@code --seed}). */
  public Optimization withSeed(long seed) {
    return new Optimization(lr, lrMultipliers, accumulate, weightDecay, betas, eps, warmup, clipNorm, noDecay, seed,
        dropout, executor);
  }

  /** Range checks; errors name the file {@code src} and the key under {@code train}. */
  public void validate(String src) {
    if (accumulate <= 0) fail(src, "accumulate", "must be > 0");
    if (!(lr > 0)) fail(src, "lr", "must be > 0");
    if (betas.size() != 2) fail(src, "betas", "needs two values");
    if (warmup < 0 || warmup >= 1) fail(src, "warmup", "a fraction in [0, 1)");
    if (clipNorm < 0) fail(src, "clip_norm", "must be ≥ 0 (0 = no clipping)");
  }

  static void fail(String src, String key, String why) {
    throw new ConfigException(src + ": key 'train." + key + "': " + why);
  }

  private static Map<LrGroup, Double> multipliers(double backbone, double fusion, double heads) {
    Map<LrGroup, Double> m = new EnumMap<>(LrGroup.class);
    m.put(LrGroup.BACKBONE, backbone);
    m.put(LrGroup.VISION, backbone);
    m.put(LrGroup.TEXT, backbone);
    m.put(LrGroup.FUSION, fusion);
    m.put(LrGroup.HEADS, heads);
    return Collections.unmodifiableMap(m);
  }
}
