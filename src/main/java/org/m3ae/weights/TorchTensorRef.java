package org.m3ae.weights;

/**
 * A tensor as {@code torch._utils._rebuild_tensor_v2} describes it: a view (offset, size, stride,
 * all in elements) into a storage that lies in the archive as {@code data/<key>}. Only the
 * description is kept; the values are read when asked for ({@link TorchTensorData}).
 */
record TorchTensorRef(Storage storage, long offset, long[] size, long[] stride) {

  /** A storage named by a persistent id {@code ('storage', type, key, location, numel)}. */
  record Storage(String key, SafetensorsDType dtype, long numel) {}

  long numel() {
    long n = 1;
    for (long d : size) n = Math.multiplyExact(n, d);
    return n;
  }

  /** The storage index of the last element the view touches; {@code offset - 1} for an empty view. */
  long lastIndex() {
    if (numel() == 0) return offset - 1;
    long last = offset;
    for (int i = 0; i < size.length; i++) last = Math.addExact(last, Math.multiplyExact(size[i] - 1, stride[i]));
    return last;
  }

  /** Row-major and dense: the elements are one run of the storage, in order. */
  boolean contiguous() {
    long expected = 1;
    for (int i = size.length - 1; i >= 0; i--) {
      if (size[i] != 1 && stride[i] != expected) return false;
      expected *= size[i];
    }
    return true;
  }
}
