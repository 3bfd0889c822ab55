package org.m3ae.tasks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.m3ae.data.BadRecordPolicy;
import org.m3ae.data.config.PipelineConfig;
import org.m3ae.data.config.PipelineLoader;
import org.m3ae.data.pipeline.DataPipeline;
import org.m3ae.data.text.TextTokenizer;
import org.m3ae.data.vqa.AnswerOrder;
import org.m3ae.data.vqa.AnswerVocabulary;
import org.m3ae.model.ModelConfig;
import org.m3ae.data.text.RobertaIdsGuard;

/**
 * A task's data: the pipeline at the model's image size, with the answer vocabulary the config asks for, and a
 * validation split. When the pipeline has none (VQA-RAD), a seeded share of the train file(s) is carved off into
 * {@code <dir>/splits/}: the pipeline's {@code train} then reads the rest and {@code val} the carved share, so no
 * question is in both and the test split is never looked at before the final evaluation.
 */
public final class TaskData implements AutoCloseable {
  public static final String VAL = "val";

  private final DataPipeline data;
  private final String train;
  private final String val;
  private final String test;
  private final String valNote;

  private TaskData(DataPipeline data, String train, String val, String test, String valNote) {
    this.data = data;
    this.train = train;
    this.val = val;
    this.test = test;
    this.valNote = valNote;
  }

  /** @param dir where carved split files go (the run directory) */
  public static TaskData open(TaskConfig tc, ModelConfig model, Path dir) {
    PipelineConfig pc = PipelineLoader.load(Path.of(tc.data().pipeline()));
    if (tc.data().root() != null) pc = pc.withRoot(tc.data().root());
    if (!tc.kind().accepts(pc.task())) {
      throw new IllegalArgumentException(tc.data().pipeline() + ": pipeline task '" + pc.task().name().toLowerCase()
          + "' cannot feed a " + tc.kind().id() + " run (" + tc.name() + ")");
    }
    pc = pc.withImageSize(model.vision().imageSize());
    String train = tc.data().trainSplit();
    String test = tc.data().testSplit();
    for (String s : List.of(train, test)) {
      if (!pc.splits().containsKey(s)) {
        throw new IllegalArgumentException(tc.data().pipeline() + ": no split '" + s + "' (has " + pc.splits().keySet() + ")");
      }
    }
    String val = tc.data().valSplit();
    String note;
    List<String> vocabSplits = tc.data().vocabSplits() != null ? tc.data().vocabSplits()
        : pc.vqa() != null && pc.vqa().vocabSplits() != null ? pc.vqa().vocabSplits() : null;
    AnswerOrder order = tc.data().answerOrder() != null ? tc.data().answerOrder()
        : pc.vqa() != null ? pc.vqa().answerOrder() : AnswerOrder.SORTED;
    BadRecordPolicy policy = tc.data().onBadRecord();
    AnswerVocabulary numbering = null;
    if (val == null && order == AnswerOrder.FIRST_APPEARANCE && pc.task() == PipelineConfig.Task.VQA) {
      // first appearance is over the files as they are; the carve below re-partitions train, so number the answers
      // on the uncarved pipeline (the carved splits hold the same questions, hence the same answers)
      checkVocabSplits(tc, pc, vocabSplits);
      try (DataPipeline whole = DataPipeline.open(withVqa(pc, vocabSplits, order), policy)) {
        numbering = whole.answerVocabulary();
      }
    }
    if (val != null) {
      if (!pc.splits().containsKey(val)) {
        throw new IllegalArgumentException(tc.data().pipeline() + ": no split '" + val + "' (data.val_split in " + tc.name() + ")");
      }
      note = "validation split '" + val + "' of the pipeline";
    } else {
      pc = carve(pc, train, tc.data().valFraction(), tc.data().valSeed(), dir.resolve("splits"));
      val = VAL;
      note = String.format("validation split carved from '%s' (%.0f%%, seed %d); the model is selected on it, never on '%s'",
          train, 100 * tc.data().valFraction(), tc.data().valSeed(), test);
      // the carved share keeps the answers it had: a vocabulary over train still covers train + val
      if (vocabSplits != null && vocabSplits.contains(train) && !vocabSplits.contains(VAL)) {
        vocabSplits = new ArrayList<>(vocabSplits);
        vocabSplits.add(VAL);
      }
    }
    if (pc.task() == PipelineConfig.Task.VQA) {
      checkVocabSplits(tc, pc, vocabSplits);
      pc = withVqa(pc, vocabSplits, order);
    }
    DataPipeline data = DataPipeline.open(pc, policy);
    if (numbering != null) data.numberAnswersAs(numbering);
    checkTokenizer(data.tokenizer(), model, tc.data().pipeline(), tc.model());
    return new TaskData(data, train, val, test, note);
  }

  /** Ids must index the model's embeddings: the tokenizer's vocabulary and pad id must agree with the text config. */
  static void checkTokenizer(TextTokenizer tok, ModelConfig m, String pipeline, String modelFile) {
    RobertaIdsGuard.checkModel(tok, m.text(), pipeline, modelFile);
    if (tok.vocabSize() > m.text().vocabSize()) {
      throw new IllegalArgumentException(pipeline + ": tokenizer vocabulary " + tok.vocabSize() + " exceeds " + modelFile
          + " text.vocab_size " + m.text().vocabSize());
    }
    if (tok.specials().pad() != m.text().padTokenId()) {
      throw new IllegalArgumentException(pipeline + ": tokenizer pad id " + tok.specials().pad() + " differs from " + modelFile
          + " text.pad_token_id " + m.text().padTokenId());
    }
  }

  private static void checkVocabSplits(TaskConfig tc, PipelineConfig pc, List<String> vocabSplits) {
    if (vocabSplits == null) return;
    for (String s : vocabSplits) {
      if (!pc.splits().containsKey(s)) throw new IllegalArgumentException(tc.name() + ": key 'data.vocab_splits': no split '" + s + "'");
    }
  }

  /** @param vocab null: every split of {@code p} */
  static PipelineConfig withVqa(PipelineConfig p, List<String> vocab, AnswerOrder order) {
    return new PipelineConfig(p.name(), p.task(), p.root(), p.format(), p.delimited(), p.splits(), p.fields(), p.constants(),
        p.filter(), p.minWords(), p.images(), p.tokenizer(), p.image(),
        new PipelineConfig.Vqa(vocab == null ? null : List.copyOf(vocab), order), p.maxRecords(), p.shuffleSeed(), p.generator());
  }

  /**
   * Splits the records of {@code split}'s files into {@code split} (rest) and {@value #VAL} (a seeded
   * {@code fraction}), written as files of the same format. JSON arrays and JSON Lines only: those are the formats
   * whose records are self-contained (a delimited file's header and columns would have to be carried along).
   */
  static PipelineConfig carve(PipelineConfig p, String split, double fraction, long seed, Path outDir) {
    if (p.format() == PipelineConfig.Format.DELIMITED) {
      throw new IllegalArgumentException(p.name() + ": cannot carve a validation split from delimited files; set data.val_split");
    }
    if (p.splits().containsKey(VAL)) throw new IllegalArgumentException(p.name() + ": already has a split named '" + VAL + "'; set data.val_split: " + VAL);
    Path root = Path.of(p.root());
    if (p.root().startsWith("embedded:")) {
      // the synthetic set is generated on first use; open it once to learn where it lives
      try (DataPipeline d = DataPipeline.open(p, BadRecordPolicy.SKIP)) {
        root = d.root();
      }
    }
    PipelineConfig.Split s = p.splits().get(split);
    ObjectMapper om = new ObjectMapper();
    List<String> records = new ArrayList<>();
    try {
      for (String f : s.files()) {
        Path file = root.resolve(f.replace("{split}", split));
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException(p.name() + ": split '" + split + "' file not found: " + file);
        if (p.format() == PipelineConfig.Format.JSON) {
          JsonNode arr = om.readTree(file.toFile());
          if (!arr.isArray()) throw new IllegalArgumentException(file + ": expected a JSON array of records");
          for (JsonNode n : arr) records.add(om.writeValueAsString(n));
        } else {
          for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) if (!line.isBlank()) records.add(line);
        }
      }
      int n = records.size();
      int nVal = (int) Math.round(n * fraction);
      if (nVal < 1 || nVal >= n) throw new IllegalArgumentException(p.name() + ": carving " + fraction + " of " + n + " records leaves an empty split");
      int[] order = new int[n];
      for (int i = 0; i < n; i++) order[i] = i;
      SplittableRandom rng = new SplittableRandom(seed);
      for (int i = n - 1; i > 0; i--) {
        int j = rng.nextInt(i + 1);
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
      }
      boolean[] isVal = new boolean[n];
      for (int i = 0; i < nVal; i++) isVal[order[i]] = true;
      List<String> fit = new ArrayList<>(), val = new ArrayList<>();
      for (int i = 0; i < n; i++) (isVal[i] ? val : fit).add(records.get(i)); // file order kept within each part
      Files.createDirectories(outDir);
      String ext = p.format() == PipelineConfig.Format.JSON ? ".json" : ".jsonl";
      Path fitFile = outDir.resolve(split + ext).toAbsolutePath();
      Path valFile = outDir.resolve(VAL + ext).toAbsolutePath();
      write(fitFile, fit, p.format());
      write(valFile, val, p.format());
      String imageDir = (s.imageDir() != null ? s.imageDir() : p.images().dir()).replace("{split}", split);
      Map<String, PipelineConfig.Split> splits = new LinkedHashMap<>(p.splits());
      splits.put(split, new PipelineConfig.Split(List.of(fitFile.toString()), imageDir, s.holdout()));
      splits.put(VAL, new PipelineConfig.Split(List.of(valFile.toString()), imageDir, s.holdout()));
      return new PipelineConfig(p.name(), p.task(), root.toString(), p.format(), p.delimited(), splits, p.fields(), p.constants(),
          p.filter(), p.minWords(), p.images(), p.tokenizer(), p.image(), p.vqa(), p.maxRecords(), p.shuffleSeed(), p.generator());
    } catch (IOException e) {
      throw new UncheckedIOException("carving a validation split from " + p.name() + ":" + split, e);
    }
  }

  private static void write(Path file, List<String> records, PipelineConfig.Format f) throws IOException {
    String body = f == PipelineConfig.Format.JSON ? "[\n" + String.join(",\n", records) + "\n]\n" : String.join("\n", records) + "\n";
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(tmp, body, StandardCharsets.UTF_8);
    Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  public DataPipeline data() {
    return data;
  }

  public String train() {
    return train;
  }

  public String val() {
    return val;
  }

  public String test() {
    return test;
  }

  /** How the validation split came about, for results and run.json. */
  public String valNote() {
    return valNote;
  }

  public int textLen() {
    return data.tokenizer().maxLength();
  }

  /** Answers (VQA) or classes (classification) the head predicts. */
  public int outputs(TaskKind kind) {
    return switch (kind) {
      case VQA -> data.answerVocabulary().size();
      case CLASSIFICATION -> data.classLabels().size();
      case RETRIEVAL -> 1;
    };
  }

  @Override
  public void close() {
    data.close();
  }

}
