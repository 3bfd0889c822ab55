package org.m3ae.weights;

/**
 * Turns one or more source tensors (PyTorch layout) into the value of one graph variable of shape
 * {@code target}, returned as row-major values (plain arrays: the loader copies them straight into
 * the variable's buffer, so a 1.5 GB checkpoint is not staged twice off-heap). Implementations throw {@link WeightsException} naming the key and both shapes
 * when the source cannot produce that shape.
 */
@FunctionalInterface
public interface Transform {
  float[] apply(TensorSource src, String key, long[] target);
}
