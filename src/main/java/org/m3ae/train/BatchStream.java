package org.m3ae.train;

import org.m3ae.data.pipeline.Batch;
import org.m3ae.data.pipeline.BatchOptions;
import org.m3ae.data.pipeline.DataPipeline;
import org.m3ae.data.pipeline.PrefetchingBatchIterator;

/**
 * An endless, seeded stream of training batches over epochs, with a position (epoch, batch) that a checkpoint
 * stores and a resume seeks to. Every random draw of a batch (shuffle, MLM/MIM/ITM sampling) is seeded by
 * (seed, epoch, batch index) in the data pipeline, so the position is all the data state there is.
 */
public final class BatchStream implements AutoCloseable {
  private final DataPipeline data;
  private final String split;
  private final BatchOptions opts;
  private final int batchSize;
  private final long seed;
  private final int workers;
  private int epoch;
  private int index;
  private PrefetchingBatchIterator it;

  public BatchStream(DataPipeline data, String split, BatchOptions opts, int batchSize, long seed, int workers) {
    this.data = data;
    this.split = split;
    this.opts = opts;
    this.batchSize = batchSize;
    this.seed = seed;
    this.workers = workers;
    if (data.records(split).size() < batchSize) {
      throw new IllegalArgumentException("split '" + split + "' has " + data.records(split).size()
          + " usable records, fewer than one batch of " + batchSize);
    }
  }

  /** Continue from a checkpointed position. */
  public void seek(int epoch, int index) {
    close();
    this.epoch = epoch;
    this.index = index;
  }

  public int epoch() {
    return epoch;
  }

  /** Index within the epoch of the next batch. */
  public int index() {
    return index;
  }

  public Batch next() {
    while (true) {
      if (it == null) it = data.batches(split, opts, batchSize, seed, epoch, true, true, workers, index);
      if (it.hasNext()) {
        index++;
        return it.next();
      }
      it.close();
      it = null;
      epoch++;
      index = 0;
    }
  }

  @Override
  public void close() {
    if (it != null) it.close();
    it = null;
  }
}
