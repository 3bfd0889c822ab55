package org.m3ae.distill;

import org.nd4j.autodiff.samediff.SameDiff;

/** Lets a test reach the SameDiff of the run it started, to inject a numeric blow-up. */
final class PretrainRunTestHooks {
  private PretrainRunTestHooks() {}

  static void arm() {
    PretrainGraph.lastBuilt = null;
  }

  static void poison() {
    SameDiff sd = PretrainGraph.lastBuilt.sd();
    sd.getVariable("language_encoder.embeddings.LayerNorm.weight").getArr().putScalar(0, Float.NaN);
  }

  static void disarm() {
    PretrainGraph.lastBuilt = null;
  }
}
