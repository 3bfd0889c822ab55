package org.m3ae.model;

import org.nd4j.autodiff.samediff.SameDiff;

/** Turns a {@link ModelConfig} into a SameDiff graph: the one builder behind teacher, students and tiny test models. */
public final class M3aeModel {
  private M3aeModel() {}

  /** A graph with the weights of {@code cfg} and the pass {@code opts.pass()}. */
  public static M3aeGraph build(ModelConfig cfg, BuildOptions opts) {
    M3aeGraph g = empty(cfg, opts);
    g.addPass(opts.pass());
    return g;
  }

  /** A graph with no pass yet: add several with {@link M3aeGraph#addPass} to share weights between them. */
  public static M3aeGraph empty(ModelConfig cfg, BuildOptions opts) {
    return new M3aeGraph(cfg, OneDeviceArrayHolder.install(SameDiff.create()), opts.dtype(), opts.randomInit(), null);
  }

  /**
   * A graph with no pass yet whose weights are {@code source}'s arrays (the same buffers): passes added to it train
   * the source's weights, e.g. one pre-training pass per graph so that each gets its own gradient call.
   */
  public static M3aeGraph sharingWeights(M3aeGraph source) {
    return new M3aeGraph(source.config(), OneDeviceArrayHolder.install(SameDiff.create()), source.dtype(), false, source.sd());
  }

  /** Only the text encoder, with placeholders text_ids/text_mask (and text_type_ids) and output text.out. */
  public static M3aeGraph buildTextOnly(ModelConfig cfg, int seqLen) {
    M3aeGraph g = empty(cfg, BuildOptions.defaults());
    g.addTextOnlyPass("", seqLen, cfg.text().typeVocabSize() > 1);
    return g;
  }
}
