package org.m3ae.tasks;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.m3ae.data.DataRecord;
import org.m3ae.data.pipeline.Batch;
import org.m3ae.data.pipeline.BatchKeys;
import org.m3ae.data.pipeline.BatchOptions;
import org.m3ae.data.pipeline.DataPipeline;
import org.m3ae.data.pipeline.PrefetchingBatchIterator;
import org.m3ae.data.vqa.AnswerNormalizer;
import org.m3ae.train.PlanCache;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Scores a split with an inference {@link TaskGraph}. Every record read from the split is in the denominator: a VQA
 * question whose answer is outside the vocabulary (train-only vocabularies) or whose image fails to decode is
 * counted wrong, never dropped, so a restricted vocabulary cannot inflate accuracy.
 */
public final class Evaluator {
  private Evaluator() {}

  /** Metrics plus how many records were counted wrong without being scored, and why. */
  public record Outcome(Map<String, Double> metrics, int records, int unscored, String notes) {}

  /** A batch's logits through a plan per batch shape (the last batch of a split is smaller), read before the next. */
  private static INDArray logits(PlanCache plans, TaskGraph g, Batch b) {
    return plans.output(FinetuneTask.feed(g, b, null, false), List.of(TaskGraph.LOGITS)).get(TaskGraph.LOGITS);
  }

  public static Outcome vqa(TaskGraph g, DataPipeline data, String split, int batch, int workers, Path predictions) {
    return vqa(g, data, split, batch, workers, predictions, ImageControl.OWN, 0);
  }

  /** As above, each question shown the image {@code control} gives it ({@link ImageControl}; {@code seed} for shuffling). */
  public static Outcome vqa(TaskGraph g, DataPipeline data, String split, int batch, int workers, Path predictions,
      ImageControl control, long seed) {
    List<DataRecord> raw = data.rawRecords(split);
    Map<String, DataRecord> byLoc = new HashMap<>();
    for (DataRecord r : raw) byLoc.put(r.location(), r);
    data.records(split); // reports out-of-vocabulary answers
    List<String> answers = data.answerVocabulary().answers();
    Map<String, int[]> scored = new LinkedHashMap<>(); // location → {predicted, gold}
    PlanCache plans = new PlanCache(g.sd(), "evaluation");
    ImageControl.Swapper swapper = new ImageControl.Swapper(control, seed);
    try (PrefetchingBatchIterator it = data.batches(split, BatchOptions.plain(), batch, 0, 0, false, false, workers)) {
      while (it.hasNext()) {
        Batch b = it.next();
        if (control != ImageControl.OWN) {
          b = swapper.apply(b, b.locations().stream().map(l -> byLoc.get(l).image().toString()).toList());
        }
        INDArray logits = logits(plans, g, b);
        INDArray gold = b.get(BatchKeys.VQA_LABELS);
        for (int i = 0; i < b.size(); i++) {
          int p = Metrics.argmax(logits.getRow(i).toFloatVector());
          scored.put(b.locations().get(i), new int[] {p, gold.getInt(i)});
        }
      }
    }
    int n = raw.size();
    int[] pred = new int[n], gold = new int[n];
    boolean[] closed = new boolean[n];
    int unscored = 0;
    for (int i = 0; i < n; i++) {
      DataRecord r = raw.get(i);
      int[] s = scored.get(r.location());
      closed[i] = Boolean.TRUE.equals(r.closed());
      if (s == null) {
        unscored++;
        pred[i] = -1;
        gold[i] = -1;
      } else {
        pred[i] = s[0];
        gold[i] = s[1];
      }
    }
    Metrics.VqaScore score = Metrics.vqa(pred, gold, closed);
    if (predictions != null) {
      writeLines(predictions, raw.size(), i -> {
        ObjectNode o = JSON.createObjectNode();
        DataRecord r = raw.get(i);
        o.put("id", r.id());
        o.put("question", r.text());
        o.put("answer", AnswerNormalizer.normalize(r.answer()));
        o.put("closed", closed[i]);
        o.put("predicted", pred[i] < 0 ? null : answers.get(pred[i]));
        o.put("correct", gold[i] >= 0 && pred[i] == gold[i]);
        if (gold[i] < 0) o.put("unscored", "answer not in the vocabulary or record not decodable: counted wrong");
        return o;
      });
    }
    Map<String, Double> m = score.asMap();
    m.put("n", (double) score.n());
    m.put("n_closed", (double) score.closedN());
    m.put("n_open", (double) score.openN());
    String notes = unscored == 0 ? "" : unscored + " of " + n + " questions could not be scored (answer outside the vocabulary "
        + data.answerVocabulary().splits() + " or undecodable image) and count as wrong";
    return new Outcome(m, n, unscored, notes);
  }

  public static Outcome classification(TaskGraph g, DataPipeline data, String split, int batch, int workers) {
    List<DataRecord> raw = data.rawRecords(split);
    int correct = 0, seen = 0;
    PlanCache plans = new PlanCache(g.sd(), "evaluation");
    try (PrefetchingBatchIterator it = data.batches(split, BatchOptions.plain(), batch, 0, 0, false, false, workers)) {
      while (it.hasNext()) {
        Batch b = it.next();
        INDArray logits = logits(plans, g, b);
        INDArray gold = b.get(BatchKeys.CLS_LABELS);
        for (int i = 0; i < b.size(); i++) {
          seen++;
          if (Metrics.argmax(logits.getRow(i).toFloatVector()) == gold.getInt(i)) correct++;
        }
      }
    }
    int n = raw.size();
    Map<String, Double> m = new LinkedHashMap<>();
    m.put("accuracy", n == 0 ? Double.NaN : (double) correct / n);
    m.put("n", (double) n);
    return new Outcome(m, n, n - seen, n == seen ? "" : (n - seen) + " undecodable records count as wrong");
  }

  /** The majority-answer baseline per answer type (closed / open), from the train split's answers. */
  public static Map<String, Double> majorityBaseline(DataPipeline data, String trainSplit, String split) {
    Map<String, Integer> closedCounts = new HashMap<>(), openCounts = new HashMap<>();
    for (DataRecord r : data.rawRecords(trainSplit)) {
      (Boolean.TRUE.equals(r.closed()) ? closedCounts : openCounts).merge(AnswerNormalizer.normalize(r.answer()), 1, Integer::sum);
    }
    String closedMaj = argmaxKey(closedCounts), openMaj = argmaxKey(openCounts);
    List<DataRecord> test = data.rawRecords(split);
    int n = test.size();
    int[] pred = new int[n], gold = new int[n];
    boolean[] closed = new boolean[n];
    for (int i = 0; i < n; i++) {
      DataRecord r = test.get(i);
      closed[i] = Boolean.TRUE.equals(r.closed());
      String guess = closed[i] ? closedMaj : openMaj;
      pred[i] = 0;
      gold[i] = guess != null && guess.equals(AnswerNormalizer.normalize(r.answer())) ? 0 : -1;
    }
    Metrics.VqaScore score = Metrics.vqa(pred, gold, closed);
    Map<String, Double> m = score.asMap();
    m.put("n", (double) n);
    m.put("n_closed", (double) score.closedN());
    m.put("n_open", (double) score.openN());
    return m;
  }

  /** The most frequent key; ties go to the alphabetically first, so the baseline does not depend on hash order. */
  static String argmaxKey(Map<String, Integer> counts) {
    String best = null;
    for (var e : counts.entrySet()) {
      if (best == null || e.getValue() > counts.get(best) || (e.getValue().equals(counts.get(best)) && e.getKey().compareTo(best) < 0)) {
        best = e.getKey();
      }
    }
    return best;
  }

  static final ObjectMapper JSON = new ObjectMapper();

  static void writeLines(Path file, int n, java.util.function.IntFunction<ObjectNode> row) {
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
        for (int i = 0; i < n; i++) {
          w.write(JSON.writeValueAsString(row.apply(i)));
          w.newLine();
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }
}
