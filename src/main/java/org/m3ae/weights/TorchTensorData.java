package org.m3ae.weights;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Reads one tensor's values from its storage stream. torch.save stores storages uncompressed, so
 * skipping to the view's first element is a seek, and only the tensor itself comes onto the heap:
 * a contiguous view is decoded through a 1 MB staging buffer; a strided one (a transpose, a
 * slice with a storage offset) reads the span of storage it covers and gathers by its strides.
 */
final class TorchTensorData {
  private TorchTensorData() {}

  private static final int STAGE = 1 << 20;

  /** torch.save writes little-endian storages (its {@code byteorder} entry says so since 2.1). */
  static float[] read(InputStream storage, TorchTensorRef t, String what) throws IOException {
    long n = t.numel();
    if (n > Integer.MAX_VALUE - 8) throw new WeightsException(what + ": " + n + " elements do not fit one Java array");
    float[] out = new float[(int) n];
    if (n == 0) return out;
    SafetensorsDType dt = t.storage().dtype();
    int es = dt.size;
    skipFully(storage, Math.multiplyExact(t.offset(), (long) es), what);
    if (t.contiguous()) {
      readRun(storage, dt, out, what);
      return out;
    }
    long span = Math.multiplyExact(t.lastIndex() - t.offset() + 1, (long) es);
    if (span > Integer.MAX_VALUE - 8) {
      throw new WeightsException(what + ": a strided view over " + span + " bytes of storage is too large to gather");
    }
    ByteBuffer buf = ByteBuffer.wrap(readBytes(storage, (int) span, what)).order(ByteOrder.LITTLE_ENDIAN);
    gather(buf, dt, t.size(), t.stride(), out);
    return out;
  }

  private static void readRun(InputStream in, SafetensorsDType dt, float[] out, String what) throws IOException {
    int es = dt.size;
    byte[] stage = new byte[(int) Math.min(STAGE, (long) out.length * es)];
    ByteBuffer b = ByteBuffer.wrap(stage).order(ByteOrder.LITTLE_ENDIAN);
    int k = 0;
    while (k < out.length) {
      int elems = Math.min(out.length - k, stage.length / es);
      readInto(in, stage, elems * es, what);
      b.clear();
      for (int i = 0; i < elems; i++) out[k++] = dt.next(b);
    }
  }

  /** Row-major over the view's index space; element offsets in the buffer are relative to the view's start. */
  private static void gather(ByteBuffer buf, SafetensorsDType dt, long[] size, long[] stride, float[] out) {
    int rank = size.length;
    long[] idx = new long[rank];
    long pos = 0;
    for (int k = 0; k < out.length; k++) {
      buf.position((int) (pos * dt.size));
      out[k] = dt.next(buf);
      for (int d = rank - 1; d >= 0; d--) {
        if (++idx[d] < size[d]) {
          pos += stride[d];
          break;
        }
        pos -= (size[d] - 1) * stride[d];
        idx[d] = 0;
      }
    }
  }

  private static void skipFully(InputStream in, long bytes, String what) throws IOException {
    while (bytes > 0) {
      long s = in.skip(bytes);
      if (s <= 0) {
        if (in.read() < 0) throw new EOFException(what + ": storage ends before the tensor's offset");
        s = 1;
      }
      bytes -= s;
    }
  }

  private static byte[] readBytes(InputStream in, int n, String what) throws IOException {
    byte[] b = new byte[n];
    readInto(in, b, n, what);
    return b;
  }

  private static void readInto(InputStream in, byte[] b, int n, String what) throws IOException {
    int off = 0;
    while (off < n) {
      int r = in.read(b, off, n - off);
      if (r < 0) throw new EOFException(what + ": storage ends inside the tensor");
      off += r;
    }
  }
}
