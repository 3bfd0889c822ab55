package org.m3ae.tasks;

import org.m3ae.data.config.PipelineConfig;

/** The three downstream task families of M3AE (SPEC §2.5, §5). */
public enum TaskKind {
  VQA,
  CLASSIFICATION,
  RETRIEVAL;

  public static TaskKind parse(String s, String source) {
    return switch (s == null ? "" : s.trim().toLowerCase()) {
      case "vqa" -> VQA;
      case "classification", "cls" -> CLASSIFICATION;
      case "retrieval", "irtr" -> RETRIEVAL;
      default -> throw new IllegalArgumentException(source + ": key 'task': '" + s + "' is not vqa | classification | retrieval");
    };
  }

  /** Whether a data pipeline of task {@code t} can feed this task (retrieval reads image–caption pairs). */
  public boolean accepts(PipelineConfig.Task t) {
    return switch (this) {
      case VQA -> t == PipelineConfig.Task.VQA;
      case CLASSIFICATION -> t == PipelineConfig.Task.CLASSIFICATION;
      case RETRIEVAL -> t == PipelineConfig.Task.RETRIEVAL || t == PipelineConfig.Task.PAIRS;
    };
  }

  public String id() {
    return name().toLowerCase();
  }
}
