package org.m3ae.data.pipeline;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.m3ae.data.BadRecordPolicy;
import org.m3ae.data.BadRecordReason;
import org.m3ae.data.DataRecord;
import org.m3ae.data.SkipReport;
import org.m3ae.data.config.PipelineConfig;
import org.m3ae.data.image.ClipTransform;
import org.m3ae.data.readers.DatasetReader;
import org.m3ae.data.synth.SyntheticDataset;
import org.m3ae.data.text.TextTokenizer;
import org.m3ae.data.vqa.AnswerOrder;
import org.m3ae.data.vqa.AnswerVocabulary;

/**
 * A dataset opened from its pipeline definition: records per split, tokenizer, answer vocabulary
 * or class labels, and seeded, prefetched batch iteration. The entry point of a training loop.
 */
public final class DataPipeline implements AutoCloseable {

  private final PipelineConfig cfg;
  private final Path root;
  private final SkipReport report;
  private final TextTokenizer tokenizer;
  private final Map<String, List<DataRecord>> raw = new LinkedHashMap<>();
  private final Map<String, List<DataRecord>> usable = new LinkedHashMap<>();
  private AnswerVocabulary vocab;
  private AnswerVocabulary numbering;
  private final ImageCache imageCache = new ImageCache(Long.getLong("m3ae.imageCacheMb", 512L) << 20);
  private Map<String, Integer> labels;

  private DataPipeline(PipelineConfig cfg, Path root, SkipReport report, TextTokenizer tokenizer) {
    this.cfg = cfg;
    this.root = root;
    this.report = report;
    this.tokenizer = tokenizer;
  }

  public static DataPipeline open(PipelineConfig cfg, BadRecordPolicy policy) {
    Path root;
    if (SyntheticDataset.EMBEDDED_ROOT.equals(cfg.root())) {
      PipelineConfig.Generator g = cfg.generator() == null ? new PipelineConfig.Generator(SyntheticDataset.DEFAULT_N, SyntheticDataset.DEFAULT_SEED) : cfg.generator();
      root = SyntheticDataset.materialise(g.n(), g.seed());
    } else {
      root = Path.of(cfg.root());
      if (!Files.isDirectory(root)) throw new IllegalArgumentException("dataset root not found: " + root.toAbsolutePath() + " (pipeline " + cfg.name() + "; override with --root)");
    }
    return new DataPipeline(cfg, root, new SkipReport(policy), TextTokenizer.load(cfg.tokenizer()));
  }

  public PipelineConfig config() {
    return cfg;
  }

  public Path root() {
    return root;
  }

  public SkipReport report() {
    return report;
  }

  public TextTokenizer tokenizer() {
    return tokenizer;
  }

  public List<String> splits() {
    return List.copyOf(cfg.splits().keySet());
  }

  /** Records as read, before vocabulary checks. */
  public synchronized List<DataRecord> rawRecords(String split) {
    return raw.computeIfAbsent(split, s -> DatasetReader.read(cfg, root, s, report));
  }

  /** Records a batch may hold: VQA answers outside the vocabulary are reported as bad records. */
  public synchronized List<DataRecord> records(String split) {
    List<DataRecord> u = usable.get(split);
    if (u != null) return u;
    List<DataRecord> rs = rawRecords(split);
    if (cfg.task() == PipelineConfig.Task.VQA) {
      AnswerVocabulary v = answerVocabulary();
      List<DataRecord> keep = new ArrayList<>();
      for (DataRecord r : rs) {
        if (v.indexOf(r.answer()) >= 0) keep.add(r);
        else report.bad(split, BadRecordReason.ANSWER_NOT_IN_VOCABULARY, r.location(), "answer '" + r.answer() + "' is not among the " + v.size() + " answers of splits " + v.splits());
      }
      rs = List.copyOf(keep);
    }
    usable.put(split, rs);
    return rs;
  }

  /**
   * Built from {@code vqa.vocab_splits} (default: every split, as M3AE does, SPEC §3.2), numbered by
   * {@code vqa.answer_order}: records are visited split by split in the listed order, each in file order.
   */
  public synchronized AnswerVocabulary answerVocabulary() {
    if (cfg.task() != PipelineConfig.Task.VQA) throw new IllegalStateException("pipeline " + cfg.name() + " is not a VQA task");
    if (vocab == null) {
      List<String> splits = cfg.vqa() != null && cfg.vqa().vocabSplits() != null ? cfg.vqa().vocabSplits() : splits();
      AnswerOrder order = cfg.vqa() != null ? cfg.vqa().answerOrder() : AnswerOrder.SORTED;
      List<DataRecord> all = new ArrayList<>();
      for (String s : splits) all.addAll(rawRecords(s));
      vocab = AnswerVocabulary.build(all, splits, order);
      if (numbering != null) vocab = vocab.numberedAs(numbering);
    }
    return vocab;
  }

  /**
   * Numbers the answer vocabulary as {@code reference} does (same answers required): used when the splits of this
   * pipeline were carved from files whose first-appearance order is the one that counts. Call before the first batch.
   */
  public synchronized void numberAnswersAs(AnswerVocabulary reference) {
    if (vocab != null) throw new IllegalStateException("pipeline " + cfg.name() + ": the answer vocabulary is already in use");
    numbering = reference;
  }

  /** Classification labels over all splits, mapped to sorted indices (SPEC §3.2 MELINDA). */
  public synchronized Map<String, Integer> classLabels() {
    if (cfg.task() != PipelineConfig.Task.CLASSIFICATION) throw new IllegalStateException("pipeline " + cfg.name() + " is not a classification task");
    if (labels == null) {
      TreeSet<String> s = new TreeSet<>();
      for (String sp : splits()) for (DataRecord r : rawRecords(sp)) s.add(r.label());
      labels = new LinkedHashMap<>();
      for (String l : s) labels.put(l, labels.size());
    }
    return labels;
  }

  /**
   * One epoch of batches.
   *
   * @param shuffle seeded shuffle of the record order (training); false keeps file order (eval)
   * @param dropLast leave out a final partial batch
   * @param workers prefetch threads
   */
  public PrefetchingBatchIterator batches(String split, BatchOptions opts, int batchSize, long seed, int epoch, boolean shuffle, boolean dropLast, int workers) {
    return batches(split, opts, batchSize, seed, epoch, shuffle, dropLast, workers, 0);
  }

  /** As above, starting at batch {@code startBatch} of the epoch (resuming a run). */
  public PrefetchingBatchIterator batches(String split, BatchOptions opts, int batchSize, long seed, int epoch, boolean shuffle, boolean dropLast, int workers, int startBatch) {
    if (batchSize <= 0) throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
    List<DataRecord> rs = records(split);
    int n = rs.size();
    int[] order = new int[n];
    for (int i = 0; i < n; i++) order[i] = i;
    if (shuffle) {
      java.util.SplittableRandom rng = new java.util.SplittableRandom(BatchAssembler.mix(seed, epoch, 11));
      for (int i = n - 1; i > 0; i--) {
        int j = rng.nextInt(i + 1);
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
      }
    }
    int nb = dropLast ? n / batchSize : (n + batchSize - 1) / batchSize;
    int[][] bs = new int[nb][];
    for (int b = 0; b < nb; b++) bs[b] = java.util.Arrays.copyOfRange(order, b * batchSize, Math.min(n, (b + 1) * batchSize));
    ClipTransform t = cfg.image().transform(split);
    BatchAssembler asm =
        new BatchAssembler(split, rs, tokenizer, t, cfg.task() == PipelineConfig.Task.VQA ? answerVocabulary() : null,
            cfg.task() == PipelineConfig.Task.CLASSIFICATION ? classLabels() : null, opts, report,
            imageCache);
    return new PrefetchingBatchIterator(asm, bs, seed, epoch, workers, 2 * Math.max(1, workers), startBatch);
  }

  @Override
  public void close() {
    tokenizer.close();
  }
}
