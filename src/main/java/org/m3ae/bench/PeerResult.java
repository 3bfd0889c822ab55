package org.m3ae.bench;

import java.util.Map;

/**
 * What the PyTorch peer measured for one model in a {@code bench --peer} run, and how far its outputs are from the
 * Java graph's on the same weights and inputs. {@code error} is set (and the rest may be null) when the peer ran but
 * failed for this model.
 *
 * @param parameters all trainable parameters of the PyTorch model (heads included: {@code info}'s total)
 * @param backboneParameters those of the inference graph (no pre-training heads: the bench's params column)
 * @param maxAbsDiff max |Java − PyTorch| by tensor kind: {@code joint} (joint + pooled), {@code vision},
 *     {@code text}, {@code fusion} hidden states
 * @param worstTensor the tensor with the largest difference
 * @param comparedTensors how many tensors were compared
 * @param parityBatch rows of the compared batch
 * @param peakRssBytes peak resident set of the whole peer process
 */
public record PeerResult(
    String error, String torch, int threads, long parameters, long backboneParameters, Timing inference, Timing latency,
    Timing train, String trainDescription, Map<String, Double> maxAbsDiff, String worstTensor, int comparedTensors,
    int parityBatch, long peakRssBytes, double wallSeconds) {

  /** One timed operation of the peer: median / min / max of the repeats and the peak resident set of the phase. */
  public record Timing(int batch, double medianMs, double minMs, double maxMs, int n, long peakRssBytes) {}

  static PeerResult failed(String why, double wallSeconds) {
    return new PeerResult(why, null, 0, 0, 0, null, null, null, null, null, null, 0, 0, 0, wallSeconds);
  }

  /** Java time / PyTorch time for one figure (> 1: Java is slower), NaN when either is missing. */
  public static double ratio(BenchReport.Measurement java, Timing torch) {
    if (java == null || torch == null || torch.medianMs() <= 0) return Double.NaN;
    return java.stats().medianMs() / torch.medianMs();
  }

  /** The largest difference over every compared tensor, NaN when nothing was compared. */
  public double maxDiff() {
    if (maxAbsDiff == null || maxAbsDiff.isEmpty()) return Double.NaN;
    return maxAbsDiff.values().stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
  }
}
