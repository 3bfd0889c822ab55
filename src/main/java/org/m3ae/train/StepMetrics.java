package org.m3ae.train;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What one optimisation step (or one validation) produced: named scalar values in a stable order. This is the one
 * metrics stream of a run: {@link MetricsJsonl} writes it to {@code metrics.jsonl}, the progress bar prints it, the
 * UI serves it, so none of them can disagree.
 *
 * <p>Keys written by pre-training: {@code step, lr, mask_r, loss_mlm, loss_mim, loss_itm, loss_hid, loss_attn,
 * loss_total, pairs_per_s}, plus {@code lr_<group>} per learning-rate group and {@code grad_norm}. Validation events
 * carry {@code event = "validation"} and {@code val_<metric>} values.
 */
public record StepMetrics(String event, int step, long timeMillis, Map<String, Double> values) {
  public static final String STEP = "step";
  public static final String VALIDATION = "validation";

  public StepMetrics {
    values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
  }

  public double get(String key) {
    Double v = values.get(key);
    if (v == null) throw new IllegalArgumentException("no metric '" + key + "' at step " + step + " (have " + values.keySet() + ")");
    return v;
  }
}
