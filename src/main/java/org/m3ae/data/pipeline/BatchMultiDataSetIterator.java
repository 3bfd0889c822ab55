package org.m3ae.data.pipeline;

import java.util.List;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.dataset.api.MultiDataSetPreProcessor;
import org.nd4j.linalg.dataset.api.iterator.MultiDataSetIterator;

/**
 * The pipeline as a DL4J {@link MultiDataSetIterator} for {@code sd.fit(iterator, epochs)}: each
 * {@link #reset()} starts the next epoch with a fresh seeded shuffle. Features and labels are the
 * batch arrays named, in the order of the graph's {@code dataSetFeatureMapping} / label mapping.
 */
public final class BatchMultiDataSetIterator implements MultiDataSetIterator {

  private final DataPipeline pipeline;
  private final String split;
  private final BatchOptions opts;
  private final int batchSize;
  private final long seed;
  private final boolean shuffle;
  private final int workers;
  private final List<String> features;
  private final List<String> labels;
  private int epoch;
  private PrefetchingBatchIterator current;
  private MultiDataSetPreProcessor pre;

  public BatchMultiDataSetIterator(DataPipeline pipeline, String split, BatchOptions opts, int batchSize, long seed, boolean shuffle, int workers,
      List<String> features, List<String> labels) {
    this.pipeline = pipeline;
    this.split = split;
    this.opts = opts;
    this.batchSize = batchSize;
    this.seed = seed;
    this.shuffle = shuffle;
    this.workers = workers;
    this.features = List.copyOf(features);
    this.labels = List.copyOf(labels);
    this.current = open();
  }

  private PrefetchingBatchIterator open() {
    return pipeline.batches(split, opts, batchSize, seed, epoch, shuffle, false, workers);
  }

  public int epoch() {
    return epoch;
  }

  @Override
  public MultiDataSet next(int num) {
    return next();
  }

  @Override
  public MultiDataSet next() {
    MultiDataSet m = current.next().toMultiDataSet(features, labels);
    if (pre != null) pre.preProcess(m);
    return m;
  }

  @Override
  public boolean hasNext() {
    return current.hasNext();
  }

  @Override
  public void setPreProcessor(MultiDataSetPreProcessor preProcessor) {
    this.pre = preProcessor;
  }

  @Override
  public MultiDataSetPreProcessor getPreProcessor() {
    return pre;
  }

  @Override
  public boolean resetSupported() {
    return true;
  }

  @Override
  public boolean asyncSupported() {
    // Already prefetched on background threads; DL4J's async wrapper would only add a copy.
    return false;
  }

  @Override
  public void reset() {
    current.close();
    epoch++;
    current = open();
  }
}
