package org.m3ae.distill;

import java.util.EnumMap;
import java.util.Map;
import org.m3ae.model.Stack;
import org.m3ae.train.RunConfig;
import org.m3ae.train.RunConfig.AttentionForm;
import org.m3ae.train.RunConfig.AttentionScale;

/**
 * The form of the KD terms a {@link PretrainGraph} builds (run config {@code kd:}, issue 18 §2). {@link #LITERAL} is
 * the paper's §3.2 as written: MSE on post-softmax maps, every stream weighted 1, a plain sum of the terms. The other
 * choices follow EfficientVLM's {@code GeneralDistill.py}, which the paper says it follows (docs/training.md,
 * "Distillation terms").
 *
 * @param attention what attention KD compares
 * @param scale factor on each attention layer pair's term
 * @param attentionWeights, hiddenWeights per distilled stack (both fusion streams share the config's {@code fusion})
 * @param temperature T of the logit KD terms ({@code objectives.mlm_kd}, {@code itm_kd})
 * @param alpha null: plain sum; else total = (1 − α)·task + α·KD
 */
public record KdSpec(AttentionForm attention, AttentionScale scale, Map<Stack, Double> attentionWeights,
    Map<Stack, Double> hiddenWeights, double temperature, Double alpha) {

  /** The paper's literal objective, this project's behaviour before issue 18 §2. */
  public static final KdSpec LITERAL = of(new RunConfig.Kd(null, null));

  public KdSpec {
    attentionWeights = Map.copyOf(attentionWeights);
    hiddenWeights = Map.copyOf(hiddenWeights);
    for (Stack s : Stack.ENCODERS) {
      if (!attentionWeights.containsKey(s) || !hiddenWeights.containsKey(s)) throw new IllegalArgumentException("no KD weight for stack " + s);
    }
    if (!(temperature > 0)) throw new IllegalArgumentException("logit KD temperature must be > 0: " + temperature);
    if (alpha != null && !(alpha >= 0 && alpha <= 1)) throw new IllegalArgumentException("alpha must lie in [0, 1]: " + alpha);
  }

  /** The spec of a run config's {@code kd} block (its defaults already applied by {@link RunConfig.Kd}). */
  public static KdSpec of(RunConfig.Kd kd) {
    return new KdSpec(kd.attention().form(), kd.attention().scale(), perStack(kd.attention().weights()),
        perStack(kd.hidden().weights()), kd.logits().temperature(), kd.alpha());
  }

  private static Map<Stack, Double> perStack(RunConfig.StackWeights w) {
    Map<Stack, Double> m = new EnumMap<>(Stack.class);
    m.put(Stack.VISION, w.vision());
    m.put(Stack.TEXT, w.text());
    m.put(Stack.FUSION_TEXT, w.fusion());
    m.put(Stack.FUSION_IMAGE, w.fusion());
    return m;
  }

  public KdSpec withAttention(AttentionForm f, AttentionScale s) {
    return new KdSpec(f, s, attentionWeights, hiddenWeights, temperature, alpha);
  }

  public KdSpec withWeights(Map<Stack, Double> attention, Map<Stack, Double> hidden) {
    return new KdSpec(this.attention, scale, attention, hidden, temperature, alpha);
  }

  public KdSpec withTemperature(double t) {
    return new KdSpec(attention, scale, attentionWeights, hiddenWeights, t, alpha);
  }

  public KdSpec withAlpha(Double a) {
    return new KdSpec(attention, scale, attentionWeights, hiddenWeights, temperature, a);
  }

  /** One line for the run's log, e.g. {@code attention scores ×L_k, weights vision 1 text 1 fusion 1; ...}. */
  public String describe() {
    return String.format("  KD form: attention %s%s (weights vision %s, text %s, fusion %s); hidden weights vision %s, "
            + "text %s, fusion %s; logit KD T = %s; %s%n", attention.name().toLowerCase(), scale == AttentionScale.KEYS ? " ×L_k" : "",
        g(attentionWeights.get(Stack.VISION)), g(attentionWeights.get(Stack.TEXT)),
        g(attentionWeights.get(Stack.FUSION_TEXT)), g(hiddenWeights.get(Stack.VISION)),
        g(hiddenWeights.get(Stack.TEXT)), g(hiddenWeights.get(Stack.FUSION_TEXT)), g(temperature),
        alpha == null ? "total = Σ weighted terms" : "total = " + g(1 - alpha) + "·task + " + g(alpha) + "·KD");
  }

  private static String g(double d) {
    return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
  }
}
