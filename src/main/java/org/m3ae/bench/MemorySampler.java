package org.m3ae.bench;

import org.bytedeco.javacpp.Pointer;

/**
 * Peak memory while a measurement runs, sampled every few milliseconds on a daemon thread: JVM heap in use,
 * JavaCPP-tracked off-heap bytes ({@link Pointer#totalBytes()}: ND4J buffers) and the process's physical bytes
 * ({@link Pointer#physicalBytes()}: resident set, heap and natives together).
 */
public final class MemorySampler implements AutoCloseable {
  /** Peaks in bytes. */
  public record Peak(long heapBytes, long offHeapBytes, long physicalBytes) {}

  private final Thread thread;
  private volatile boolean running = true;
  private volatile long heap, offHeap, physical;

  public MemorySampler(long periodMs) {
    sample();
    thread = new Thread(() -> {
      while (running) {
        sample();
        try {
          Thread.sleep(periodMs);
        } catch (InterruptedException e) {
          return;
        }
      }
    }, "bench-memory-sampler");
    thread.setDaemon(true);
    thread.start();
  }

  private void sample() {
    Runtime rt = Runtime.getRuntime();
    heap = Math.max(heap, rt.totalMemory() - rt.freeMemory());
    offHeap = Math.max(offHeap, Pointer.totalBytes());
    physical = Math.max(physical, Pointer.physicalBytes());
  }

  public Peak peak() {
    sample();
    return new Peak(heap, offHeap, physical);
  }

  @Override
  public void close() {
    running = false;
    thread.interrupt();
  }
}
