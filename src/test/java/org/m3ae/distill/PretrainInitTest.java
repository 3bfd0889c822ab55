package org.m3ae.distill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.m3ae.model.ConfigException;
import org.m3ae.model.ModelConfig;
import org.m3ae.model.ModelPart;
import org.m3ae.train.RunConfig;
import org.m3ae.train.TrainingListener;
import org.m3ae.weights.GraphWeights;
import org.m3ae.weights.SafetensorsWriter;
import org.m3ae.weights.TensorSource;
import org.m3ae.weights.TensorSources;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A pre-training run's {@code init}: the named parts start from a file, every variable of them required, the other
 * parts random; checked on the weights the trainer hands to its listeners before the first step.
 */
class PretrainInitTest {
  @TempDir static Path dir;
  static Path model;
  static Path trained; // a 2-step run's weights: every part differs from the model's random initialisation

  @BeforeAll
  static void trainOnce() throws IOException {
    model = dir.resolve("micro.yaml");
    Files.writeString(model, PretrainRunTest.MODEL);
    trained = run(runConfig("init-source", 2, ""), List.of()).weights();
  }

  static Path runConfig(String name, int steps, String extra) throws IOException {
    Path f = dir.resolve(name + ".yaml");
    Files.writeString(f, "name: " + name + "\nmodel: " + model + "\n"
        + "data: {pipeline: data-pipelines/synthetic.yaml, split: train, workers: 2}\n"
        + "train: {steps: " + steps + ", batch_size: 4, lr: 1.0e-3, warmup: 0.25, seed: 5, checkpoint_every: 2}\n" + extra);
    return f;
  }

  static PretrainRun.Result run(Path cfg, List<TrainingListener> extra) {
    String name = cfg.getFileName().toString().replace(".yaml", "");
    return PretrainRunTest.run(cfg, dir.resolve(name), false, extra);
  }

  /** The weights as the run starts (copied when the trainer hands them out). */
  static Map<String, INDArray> startOf(String name, String extra) throws IOException {
    Map<String, INDArray> start = new HashMap<>();
    TrainingListener grab = new TrainingListener() {
      @Override
      public void onParameters(Map<String, INDArray> parameters) {
        parameters.forEach((k, v) -> start.put(k, v.dup()));
      }
    };
    run(runConfig(name, 1, extra), List.of(grab));
    return start;
  }

  @Test
  void textPartComesFromTheFileAndTheOthersStartRandom() throws IOException {
    Map<String, INDArray> start = startOf("init-text", "init: {weights: " + trained + ", parts: [text]}\n");
    int text = 0, other = 0;
    try (TensorSource src = TensorSources.open(trained)) {
      for (var e : start.entrySet()) {
        ModelPart part = ModelPart.of(e.getKey());
        INDArray file = src.read(e.getKey()).reshape(e.getValue().shape());
        if (part == ModelPart.TEXT) {
          assertEquals(file, e.getValue().castTo(file.dataType()), e.getKey() + " loaded from the file");
          text++;
        } else if (!e.getKey().contains("layernorm") && !e.getKey().contains("LayerNorm") && !e.getKey().endsWith("bias")
            && e.getValue().length() > 1) {
          // trained weights moved away from the initialisation: a random start cannot equal them
          assertNotEquals(file, e.getValue().castTo(file.dataType()), e.getKey() + " is not from the file");
          other++;
        }
      }
    }
    assertTrue(text > 10 && other > 10, "text variables " + text + ", others " + other);
  }

  @Test
  void allPartsRequireEveryVariableInTheFile() throws IOException {
    // a file with the text tower only, in graph layout
    Path textOnly = dir.resolve("text-only.safetensors");
    SafetensorsWriter w = new SafetensorsWriter().metadata(GraphWeights.LAYOUT_KEY, GraphWeights.LAYOUT_GRAPH)
        .metadata("m3ae.config", "micro");
    try (TensorSource src = TensorSources.open(trained)) {
      for (String k : src.keys()) if (ModelPart.of(k) == ModelPart.TEXT) w.add(k, src.read(k));
    }
    w.write(textOnly);
    var e = assertThrows(IllegalArgumentException.class, () -> startOf("init-all", "init: {weights: " + textOnly + "}\n"));
    assertTrue(e.getMessage().contains(textOnly + " (key 'init'): lacks") && e.getMessage().contains("[all]")
        && e.getMessage().contains("e.g. 'itm_head.fc.bias'"), e.getMessage()); // the first missing name, sorted
    // the same file is a complete text part
    Map<String, INDArray> start = startOf("init-text-only", "init: {weights: " + textOnly + ", parts: [text]}\n");
    assertTrue(start.keySet().stream().anyMatch(k -> ModelPart.of(k) == ModelPart.TEXT));
  }

  @Test
  void everyModelVariableIsInExactlyOnePart() throws IOException {
    Map<String, INDArray> start = startOf("init-none", "");
    for (String k : start.keySet()) {
      long in = java.util.Arrays.stream(ModelPart.values()).filter(p -> p != ModelPart.ALL && p.contains(k)).count();
      assertEquals(1, in, k + " is in " + in + " parts");
      assertTrue(ModelPart.ALL.contains(k), k);
    }
    assertTrue(start.keySet().stream().map(ModelPart::of).distinct().count() == 4, "vision, text, fusion and heads all present");
  }

  @Test
  void configErrorsNameTheKey() throws IOException {
    Path bad = runConfig("init-bad", 1, "init: {weights: x.safetensors, parts: [txt]}\n");
    var e = assertThrows(ConfigException.class, () -> RunConfig.load(bad));
    assertTrue(e.getMessage().contains("txt"), e.getMessage());
    Path both = runConfig("init-both", 1, "teacher: {model: " + model + ", weights: "
        + trained + "}\nstudent_init: teacher\ninit: {weights: " + trained + "}\n");
    e = assertThrows(ConfigException.class, () -> RunConfig.load(both));
    assertTrue(e.getMessage().contains("'init' and 'student_init: teacher'"), e.getMessage());
    Path missing = runConfig("init-missing", 1, "init: {weights: " + dir.resolve("nope.safetensors") + "}\n");
    var m = assertThrows(IllegalArgumentException.class, () -> run(missing, List.of()));
    assertTrue(m.getMessage().contains("init weights not found") && m.getMessage().contains("nope.safetensors"), m.getMessage());
    assertEquals(ModelConfig.load(model).name(), "micro");
  }
}
