package org.m3ae.data.pipeline;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Batches of one epoch, built ahead on background threads and handed out in order. Each batch is
 * a pure function of (indices, seed, epoch, batch index), so results do not depend on the number of
 * workers. A failure under {@code --on-bad-record fail} surfaces from {@link #next()} with its
 * original message. Batches whose every record was skipped are dropped (and counted in the report).
 *
 * <p>{@link #close()} returns only once no worker is still building a batch: the workers use the
 * pipeline's native tokenizer, which the pipeline frees when it is closed.
 */
public final class PrefetchingBatchIterator implements Iterator<Batch>, AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(PrefetchingBatchIterator.class);
  private static final AtomicInteger THREADS = new AtomicInteger();

  private final BatchAssembler assembler;
  private final int[][] batches;
  private final long seed;
  private final int epoch;
  private final ExecutorService pool;
  private final ArrayDeque<Future<Batch>> queue = new ArrayDeque<>();
  private final int depth;
  private int submitted;
  private Batch peeked;

  /**
   * @param batches dataset indices of each batch, in order
   * @param workers background threads (>= 1)
   * @param depth batches built ahead of the consumer
   */
  public PrefetchingBatchIterator(BatchAssembler assembler, int[][] batches, long seed, int epoch, int workers, int depth) {
    this(assembler, batches, seed, epoch, workers, depth, 0);
  }

  /**
   * @param start index of the first batch to produce: a resumed run continues mid-epoch with exactly the batches
   *     (and per-batch random draws, seeded by the batch index) an uninterrupted run would have seen
   */
  public PrefetchingBatchIterator(BatchAssembler assembler, int[][] batches, long seed, int epoch, int workers, int depth, int start) {
    this.assembler = assembler;
    this.submitted = Math.max(0, Math.min(start, batches.length));
    this.batches = batches;
    this.seed = seed;
    this.epoch = epoch;
    this.depth = Math.max(1, depth);
    this.pool = Executors.newFixedThreadPool(Math.max(1, workers), r -> {
      Thread t = new Thread(r, "m3ae-prefetch-" + THREADS.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    fill();
  }

  private void fill() {
    while (queue.size() < depth && submitted < batches.length) {
      final int bi = submitted++;
      queue.add(pool.submit(() -> assembler.assemble(batches[bi], seed, epoch, bi)));
    }
  }

  @Override
  public boolean hasNext() {
    while (peeked == null && !queue.isEmpty()) {
      Future<Batch> f = queue.poll();
      fill();
      Batch b;
      try {
        b = f.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for a batch", e);
      } catch (ExecutionException e) {
        close();
        if (e.getCause() instanceof RuntimeException re) throw re;
        throw new IllegalStateException(e.getCause().getMessage(), e.getCause());
      }
      if (b.size() > 0) peeked = b;
    }
    return peeked != null;
  }

  @Override
  public Batch next() {
    if (!hasNext()) throw new NoSuchElementException();
    Batch b = peeked;
    peeked = null;
    return b;
  }

  public int plannedBatches() {
    return batches.length;
  }

  /** Whether every worker thread has finished: true once {@link #close()} has returned. */
  public boolean workersStopped() {
    return pool.isTerminated();
  }

  /**
   * Cancels the batches not yet started and waits for those being built. Interrupting does not stop
   * a worker inside native code (image decoding, tokenisation), so it is waited for.
   */
  @Override
  public void close() {
    for (Future<Batch> f : queue) f.cancel(false);
    queue.clear();
    peeked = null;
    pool.shutdownNow();
    boolean interrupted = false;
    while (true) {
      try {
        if (pool.awaitTermination(1, TimeUnit.MINUTES)) break;
        LOG.warn("still waiting for a prefetch worker to finish its batch");
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) Thread.currentThread().interrupt();
  }
}
