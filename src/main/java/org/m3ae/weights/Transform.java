package org.m3ae.weights;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Turns one or more source tensors (PyTorch layout) into the value of one graph variable of shape
 * {@code target}. Implementations throw {@link WeightsException} naming the key and both shapes
 * when the source cannot produce that shape.
 */
@FunctionalInterface
public interface Transform {
  INDArray apply(TensorSource src, String key, long[] target);
}
