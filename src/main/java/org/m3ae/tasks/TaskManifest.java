package org.m3ae.tasks;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.m3ae.model.ModelConfig;

/**
 * {@code task.json} beside a fine-tuned model: everything needed to use it without the run config — task, model
 * config, the pipeline whose tokenizer and image transform it was trained with, text length, image size, and the
 * output labels in head order (the answer vocabulary for VQA).
 */
public record TaskManifest(
    @JsonProperty("name") String name,
    @JsonProperty("task") String task,
    @JsonProperty("model_config") String modelConfig,
    @JsonProperty("pipeline") String pipeline,
    @JsonProperty("root") String root,
    @JsonProperty("text_len") int textLen,
    @JsonProperty("image_size") int imageSize,
    @JsonProperty("labels") List<String> labels,
    @JsonProperty("vocab_splits") List<String> vocabSplits,
    @JsonProperty("validation") String validation) {
  public static final String FILE = "task.json";

  static TaskManifest of(TaskConfig tc, Path configFile, ModelConfig model, TaskData td, int outputs, int textLen) {
    List<String> labels = new ArrayList<>();
    List<String> vocabSplits = null;
    switch (tc.kind()) {
      case VQA -> {
        labels.addAll(td.data().answerVocabulary().answers());
        vocabSplits = td.data().answerVocabulary().splits();
      }
      case CLASSIFICATION -> {
        String[] byIndex = new String[outputs];
        for (Map.Entry<String, Integer> e : td.data().classLabels().entrySet()) byIndex[e.getValue()] = e.getKey();
        labels.addAll(List.of(byIndex));
      }
      case RETRIEVAL -> labels.add("match");
    }
    return new TaskManifest(tc.name(), tc.kind().id(), tc.model(), tc.data().pipeline(), tc.data().root(), textLen,
        model.vision().imageSize(), labels, vocabSplits, td.valNote());
  }

  public TaskKind kind() {
    return TaskKind.parse(task, FILE);
  }

  void write(Path dir) {
    try {
      Files.writeString(dir.resolve(FILE), new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(this) + "\n");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + dir.resolve(FILE), e);
    }
  }

  /** Reads {@code task.json} from a run directory, or from the directory of a model file. */
  public static TaskManifest read(Path runDirOrModel) {
    Path dir = Files.isDirectory(runDirOrModel) ? runDirOrModel : runDirOrModel.toAbsolutePath().getParent();
    Path f = dir.resolve(FILE);
    if (!Files.isRegularFile(f)) {
      throw new IllegalArgumentException(f + " not found: a fine-tuned model needs the task.json that finetune writes beside it");
    }
    try {
      TaskManifest m = new ObjectMapper().readValue(f.toFile(), TaskManifest.class);
      if (m.labels() == null || m.labels().isEmpty()) throw new IllegalArgumentException(f + ": key 'labels' is empty");
      if (m.textLen() <= 0) throw new IllegalArgumentException(f + ": key 'text_len' must be > 0");
      return m;
    } catch (IOException e) {
      throw new IllegalArgumentException(f + ": unreadable task manifest: " + e.getMessage(), e);
    }
  }
}
