package org.m3ae.ablate;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.m3ae.distill.PretrainRunTestModel;

/**
 * The run configs the grid tests start from, written into a test's directory: {@code micro.yaml} (the pre-training
 * tests' micro model), {@code teacher.yaml} (MLM + ITM from scratch) and {@code student.yaml} (teacher-initialised, KD
 * on, the mask from both models; its teacher weights are a placeholder a grid overrides), on the synthetic pipeline.
 */
final class MicroRuns {
  private MicroRuns() {}

  /** Writes the three files with {@code train} as both runs' train block; returns the model config's path. */
  static Path write(Path dir, String train) throws IOException {
    Path model = dir.resolve("micro.yaml");
    Files.writeString(model, PretrainRunTestModel.YAML);
    String common = "model: " + model + "\n"
        + "data: {pipeline: data-pipelines/synthetic.yaml, split: train, workers: 2}\n"
        + "train: " + train + "\n";
    Files.writeString(dir.resolve("teacher.yaml"), "name: t\n" + common + "objectives: {mlm: 1, mim: 0, itm: 1}\nmask: {source: random}\n");
    Files.writeString(dir.resolve("student.yaml"), "name: s\n" + common
        + "teacher: {model: " + model + ", weights: none-yet}\nstudent_init: teacher\nmask: {source: both}\n");
    return model;
  }
}
