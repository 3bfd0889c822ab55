package org.m3ae.model;

import java.util.Arrays;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.array.SingleThreadArrayHolder;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Where a SameDiff graph keeps its variables' and constants' arrays: {@code ThreadSafeArrayHolder}'s behaviour on one
 * device, without the hidden copy it keeps of every array.
 *
 * <p>Why (1.0.0-M2.1, read from the sources): {@code SameDiff.create()} holds arrays in a
 * {@code ThreadSafeArrayHolder(lazyInit = true)}, whose {@code DeviceLocalNDArray} stores the array it is given and
 * also a {@code delayedArray = array.dup()} for the other devices. That copy is dropped only once every other device
 * has fetched it, which on a one-device machine never happens: every graph holds a second, invisible copy of all its
 * weights. For the teacher's pre-training graphs (a joint graph and three pass graphs sharing its weights) that is
 * four extra copies of 1.27 GB (docs/performance.md, change 10).
 *
 * <p>Kept from {@code ThreadSafeArrayHolder}, because the project relies on them: the array given is stored as is,
 * so graphs built with {@link M3aeModel#sharingWeights} train the same buffers; a view is copied first; setting an
 * array of the same shape again copies the values into the stored array, so every graph sharing it sees them. A
 * graph holding these is meant for one thread at a time, as SameDiff's own gradient function is, which holds its arrays
 * in the {@code SingleThreadArrayHolder} this extends (a plain map, no copies).
 */
public final class OneDeviceArrayHolder extends SingleThreadArrayHolder {

  /** Makes {@code sd} keep its arrays here, taking over those it already has (the same arrays, not copies). */
  public static SameDiff install(SameDiff sd) {
    sd.setArrayHolders(new OneDeviceArrayHolder(), new OneDeviceArrayHolder(), true);
    return sd;
  }

  @Override
  public void setArray(String name, INDArray array) {
    INDArray a = array.isView() ? array.dup() : array;
    INDArray have = getArray(name);
    if (have != null && have != a && Arrays.equals(have.shape(), a.shape()) && have.dataType() == a.dataType()) {
      have.assign(a);
    } else {
      super.setArray(name, a);
    }
  }
}
