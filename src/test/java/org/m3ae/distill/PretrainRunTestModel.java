package org.m3ae.distill;

/** The micro model the pre-training tests train: every block of the real model, a few thousand parameters. */
public final class PretrainRunTestModel {
  private PretrainRunTestModel() {}

  public static final String YAML = PretrainRunTest.MODEL;
}
