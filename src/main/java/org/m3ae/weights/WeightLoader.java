package org.m3ae.weights;

import java.util.HashSet;
import java.util.Set;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Applies a {@link KeyMap} from a {@link TensorSource} to the trainable variables of a SameDiff
 * graph. Variables without a rule or key are reported missing and keep their values; keys nothing
 * uses are reported unused; a key whose shape cannot become the variable's shape is an error
 * naming the key and both shapes (SPEC §4 "Loading semantics"), and so is a weight of a layer deeper
 * than the graph builds ({@link LayerDepthCheck}).
 */
public final class WeightLoader {
  private WeightLoader() {}

  public static LoadReport load(SameDiff sd, TensorSource src, KeyMap map) {
    LoadReport r = new LoadReport(src.origin());
    Set<String> used = new HashSet<>();
    for (SDVariable v : sd.variables()) {
      VariableType type = v.getVariableType();
      if (type != VariableType.VARIABLE && type != VariableType.CONSTANT) continue;
      String name = v.name();
      INDArray arr = v.getArr();
      KeyMap.Rule rule = map.rule(name, arr.shape());
      if (rule == null) {
        if (type == VariableType.VARIABLE) r.missing.put(name, "no mapping rule");
        continue;
      }
      if (type == VariableType.CONSTANT && !rule.checkOnly()) continue;
      if (!src.contains(rule.sourceKey())) {
        if (type == VariableType.VARIABLE) r.missing.put(name, "no key '" + rule.sourceKey() + "' in the checkpoint");
        continue;
      }
      float[] value = rule.transform().apply(src, rule.sourceKey(), arr.shape());
      used.add(rule.sourceKey());
      if (rule.checkOnly()) {
        double diff = Nd4j.create(value, arr.shape(), 'c').castTo(arr.dataType()).sub(arr).amaxNumber().doubleValue();
        r.checked.add(new LoadReport.Checked(name, rule.sourceKey(), diff));
        continue;
      }
      write(arr, value);
      r.loaded.add(new LoadReport.Loaded(name, rule.sourceKey(), rule.how()));
      r.loadedValues += arr.length();
    }
    LayerDepthCheck.check(src.origin(), src.keys(), used);
    for (String k : src.keys()) {
      if (used.contains(k)) continue;
      String why = map.whyUnused(k);
      r.unused.put(k, why == null ? "" : why);
    }
    return r;
  }

  /** Copies row-major values into a variable, directly into its buffer when it owns one whole. */
  static void write(INDArray arr, float[] value) {
    if (value.length != arr.length()) {
      throw new IllegalStateException("internal: " + value.length + " values for " + arr.length());
    }
    if (arr.dataType() == DataType.FLOAT && arr.offset() == 0 && arr.ordering() == 'c'
        && arr.data().length() == value.length && !arr.isView()) {
      arr.data().setData(value);
    } else {
      arr.assign(Nd4j.create(value, arr.shape(), 'c').castTo(arr.dataType()));
    }
  }
}
