package org.m3ae.data.pipeline;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Throughput of the whole pipeline (decode, resize, crop, normalise, tokenise, mask, assemble) as
 * a training loop would see it: batches consumed from the prefetching iterator, nothing else.
 */
public final class PipelineBench {

  private PipelineBench() {}

  public static Map<String, Object> run(DataPipeline p, String split, BatchOptions opts, int batchSize, int batches, int workers, long seed) {
    int done = 0, pairs = 0, epoch = 0;
    // One warm-up batch: loads natives and fills the page cache, which a training run pays once.
    try (PrefetchingBatchIterator w = p.batches(split, opts, batchSize, seed, -1, true, false, 1)) {
      if (w.hasNext()) w.next();
    }
    long t0 = System.nanoTime();
    while (done < batches) {
      try (PrefetchingBatchIterator it = p.batches(split, opts, batchSize, seed, epoch++, true, false, workers)) {
        if (!it.hasNext()) break;
        while (it.hasNext() && done < batches) {
          Batch b = it.next();
          pairs += b.size();
          done++;
        }
      }
    }
    double sec = (System.nanoTime() - t0) / 1e9;
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("pipeline", p.config().name());
    m.put("split", split);
    m.put("image_size", p.config().image().size());
    m.put("batch_size", batchSize);
    m.put("workers", workers);
    m.put("batches", done);
    m.put("pairs", pairs);
    m.put("seconds", Math.round(sec * 1000) / 1000.0);
    m.put("batches_per_s", Math.round(done / sec * 100) / 100.0);
    m.put("pairs_per_s", Math.round(pairs / sec * 10) / 10.0);
    return m;
  }
}
