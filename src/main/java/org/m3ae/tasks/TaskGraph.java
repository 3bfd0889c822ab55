package org.m3ae.tasks;

import org.m3ae.model.BuildOptions;
import org.m3ae.model.M3aeGraph;
import org.m3ae.model.M3aeModel;
import org.m3ae.model.ModelConfig;
import org.m3ae.model.Pass;
import org.m3ae.model.PassSpec;
import org.m3ae.train.Losses;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * An M3AE-family model with one downstream head (SPEC §2.5) on the joint feature [B, 2·Df] of one pass named
 * {@value #PASS}. Training graphs (dropout-mask placeholders, one-hot embeddings) also carry the task loss;
 * inference graphs use gathers and have no loss. Both have the same variables, so weights written from one load
 * into the other.
 *
 * <p>Placeholders besides the pass's {@code ft/image}, {@code ft/text_ids}, {@code ft/text_mask}: VQA
 * {@code ft/vqa_targets} [B, A]; classification {@code ft/cls_labels} int [B] and {@code ft/task_weights} [B];
 * retrieval (training) {@code ft/irtr_labels} int [G] and {@code ft/task_weights} [G] for G groups of
 * {@code candidates} rows (row 0 of each group the positive).
 */
public final class TaskGraph {
  public static final String PASS = "ft";
  public static final String LOGITS = PASS + "/task.logits";
  public static final String LOSS = PASS + "/task.loss";
  public static final String VQA_TARGETS = PASS + "/vqa_targets";
  public static final String CLS_LABELS = PASS + "/cls_labels";
  public static final String IRTR_LABELS = PASS + "/irtr_labels";
  public static final String WEIGHTS = PASS + "/task_weights";

  private final M3aeGraph graph;
  private final Pass pass;
  private final TaskKind kind;
  private final int outputs;
  private final int textLen;
  private final int candidates;
  private final boolean training;
  private final TaskHeads.Irtr irtr;
  private boolean lossOnInference;

  private TaskGraph(M3aeGraph graph, Pass pass, TaskKind kind, int outputs, int textLen, int candidates, boolean training,
      TaskHeads.Irtr irtr) {
    this.graph = graph;
    this.pass = pass;
    this.kind = kind;
    this.outputs = outputs;
    this.textLen = textLen;
    this.candidates = candidates;
    this.training = training;
    this.irtr = irtr;
  }

  /** What a task graph is built for. */
  public enum Mode {
    /** Gather embeddings, no loss, no dropout: evaluation and prediction. */
    INFERENCE,
    /** The trainable graph: one-hot embedding products (every table trains), dropout, the task loss. */
    TRAINING,
    /**
     * The inference (gather) graph with the task loss, no dropout: training with the text word and position tables
     * frozen (docs/dl4j.md: the one-hot product of a RoBERTa-size table dominates a CPU step).
     */
    FROZEN_EMBEDDINGS
  }

  /** An inference graph ({@link Mode#INFERENCE}, one retrieval candidate, head seed 0). */
  public static TaskGraph inference(ModelConfig model, TaskKind kind, int outputs, int textLen) {
    return build(model, kind, outputs, textLen, Mode.INFERENCE, 1, 0);
  }

  /**
   * @param outputs answers (VQA) or classes (classification); ignored for retrieval (one score)
   * @param textLen padded text length of the task's tokenizer (SPEC §3.3: 32 VQA, 128 MELINDA, 40 IRTR)
   * @param candidates retrieval training: 1 positive + negatives per image (SPEC §2.5: 16)
   * @param seed head initialisation
   */
  public static TaskGraph build(ModelConfig model, TaskKind kind, int outputs, int textLen, Mode mode, int candidates,
      long seed) {
    boolean training = mode == Mode.TRAINING, withLoss = mode == Mode.FROZEN_EMBEDDINGS;
    if (model.text().positionIds() == ModelConfig.PositionIds.ROBERTA && textLen + 2 > model.text().maxPositions()) {
      throw new IllegalArgumentException(model.name() + ": text length " + textLen + " needs max_positions ≥ " + (textLen + 2)
          + " with RoBERTa positions, config has " + model.text().maxPositions());
    }
    if (textLen > model.text().maxPositions()) {
      throw new IllegalArgumentException(model.name() + ": text length " + textLen + " exceeds text.max_positions " + model.text().maxPositions());
    }
    if (kind != TaskKind.RETRIEVAL && outputs < 1) throw new IllegalArgumentException(kind.id() + " head needs ≥ 1 output, got " + outputs);
    M3aeGraph g = M3aeModel.empty(model, BuildOptions.defaults());
    Pass p = g.addPass(PassSpec.inference().withName(PASS).withTraining(training).withTextLen(textLen));
    SameDiff sd = g.sd();
    DataType dt = g.dtype();
    int in = model.fusion().jointDim();
    SDVariable joint = p.joint();
    TaskHeads.Irtr irtr = null;
    SDVariable logits;
    SDVariable loss = null;
    switch (kind) {
      case VQA -> {
        logits = TaskHeads.apply(sd, TaskHeads.mlp(sd, "vqa_head", in, outputs, seed, dt), joint);
        if (training || withLoss) {
          // BCEWithLogits(logits, soft targets) · n_answers, the ViLT/METER/M3AE convention (SPEC §2.5)
          SDVariable targets = sd.placeHolder(VQA_TARGETS, dt, -1, outputs);
          loss = Losses.bceWithLogits(sd, logits, targets).mean().mul((double) outputs);
        }
      }
      case CLASSIFICATION -> {
        logits = TaskHeads.apply(sd, TaskHeads.mlp(sd, "cls_head", in, outputs, seed, dt), joint);
        if (training || withLoss) {
          SDVariable labels = sd.placeHolder(CLS_LABELS, DataType.INT32, -1);
          SDVariable w = sd.placeHolder(WEIGHTS, dt, -1);
          loss = Losses.crossEntropy(sd, logits, labels, w, outputs, 2);
        }
      }
      case RETRIEVAL -> {
        irtr = TaskHeads.irtr(sd, in, seed, dt);
        logits = TaskHeads.apply(irtr, joint); // [B, 1]
        if (training || withLoss) {
          // 1 positive + negatives per image, scored jointly; CE over the group with the positive at index 0
          SDVariable grouped = sd.reshape(logits, -1, candidates);
          SDVariable labels = sd.placeHolder(IRTR_LABELS, DataType.INT32, -1);
          SDVariable w = sd.placeHolder(WEIGHTS, dt, -1);
          loss = Losses.crossEntropy(sd, grouped, labels, w, candidates, 2);
        }
      }
      default -> throw new IllegalStateException(); // unreachable (every TaskKind above); Java 17 needs it for definite assignment
    }
    sd.identity(LOGITS, logits);
    if (loss != null) {
      sd.identity(LOSS, loss);
      sd.setLossVariables(LOSS);
    }
    TaskGraph tg = new TaskGraph(g, p, kind, kind == TaskKind.RETRIEVAL ? 1 : outputs, textLen, candidates, training, irtr);
    tg.lossOnInference = withLoss;
    return tg;
  }

  /** Names of the text embedding tables {@link #freezeEmbeddings} fixes. */
  private final java.util.List<String> frozen = new java.util.ArrayList<>();

  /**
   * Turns the text word and position embedding tables into constants, so an inference (gather) graph can be
   * trained: the gathers then read constants and need no gradient, which DL4J 1.0.0-M2.1 cannot build for two
   * gathers on trainable tables (docs/dl4j.md). Call after loading weights (the loader skips constants).
   */
  public java.util.List<String> freezeEmbeddings() {
    if (training) throw new IllegalStateException("freeze the embeddings of a gather (inference) graph; training graphs use one-hot products");
    java.util.List<SDVariable> vs = new java.util.ArrayList<>();
    for (SDVariable v : sd().variables()) {
      if (v.getVariableType() != org.nd4j.autodiff.samediff.VariableType.VARIABLE) continue;
      if (v.name().endsWith("embeddings.word_embeddings.weight") || v.name().endsWith("embeddings.position_embeddings.weight")) vs.add(v);
    }
    if (vs.isEmpty()) throw new IllegalStateException("no text embedding tables found to freeze");
    for (SDVariable v : vs) frozen.add(v.name());
    sd().convertToConstants(vs);
    sd().setLossVariables(LOSS);
    return java.util.List.copyOf(frozen);
  }

  public java.util.List<String> frozen() {
    return java.util.List.copyOf(frozen);
  }

  /** Every weight of the model, frozen tables included, in graph names (loadable by any graph of this task). */
  public void writeWeights(java.nio.file.Path file) {
    if (frozen.isEmpty()) {
      org.m3ae.weights.GraphWeights.write(sd(), file, graph.config().name());
      return;
    }
    var w = new org.m3ae.weights.SafetensorsWriter().metadata(org.m3ae.weights.GraphWeights.LAYOUT_KEY, org.m3ae.weights.GraphWeights.LAYOUT_GRAPH)
        .metadata("m3ae.config", graph.config().name());
    for (SDVariable v : sd().variables()) {
      boolean keep = v.getVariableType() == org.nd4j.autodiff.samediff.VariableType.VARIABLE || frozen.contains(v.name());
      if (!keep) continue;
      var arr = v.getArr();
      w.add(v.name(), arr.shape(), () -> arr.castTo(DataType.FLOAT).dup('c').data().asFloat());
    }
    w.write(file);
  }

  public M3aeGraph graph() {
    return graph;
  }

  public SameDiff sd() {
    return graph.sd();
  }

  public Pass pass() {
    return pass;
  }

  public TaskKind kind() {
    return kind;
  }

  public int outputs() {
    return outputs;
  }

  public int textLen() {
    return textLen;
  }

  public int candidates() {
    return candidates;
  }

  /** Whether the graph has dropout-mask placeholders and one-hot embeddings (false: gathers, no dropout). */
  public boolean training() {
    return training;
  }

  /** Whether the graph carries the task loss and its target placeholders. */
  public boolean hasLoss() {
    return training || lossOnInference;
  }

  /** The retrieval head's variables (null for other tasks). */
  public TaskHeads.Irtr irtr() {
    return irtr;
  }

  public String image() {
    return pass.name(org.m3ae.model.Names.IMAGE);
  }

  public String textIds() {
    return pass.name(org.m3ae.model.Names.TEXT_IDS);
  }

  public String textMask() {
    return pass.name(org.m3ae.model.Names.TEXT_MASK);
  }
}
