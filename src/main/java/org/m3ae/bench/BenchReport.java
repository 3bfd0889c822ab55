package org.m3ae.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Everything one bench run measured, printable as a Table 5-shaped table or as JSON. {@code peer} describes the
 * PyTorch peer of a {@code --peer} run (or why it did not run); null without {@code --peer}, as in reports saved
 * before it existed.
 */
public record BenchReport(
    Bench.Options options, String trainStep, Environment environment, Sgemm.Result sgemm, Sgemm.Result sgemmAfter,
    List<ModelResult> models, String loadAverageAfter, String peer) {

  /** The paper's Table 5 (M3AE-Distill): training pairs/s, inference pairs/s, CPU ms/pair. */
  public record PaperRow(double trainPairsPerS, double inferencePairsPerS, double cpuMsPerPair) {}

  public static final PaperRow PAPER_TEACHER = new PaperRow(84.77, 119.07, 370);
  public static final PaperRow PAPER_SMALL = new PaperRow(409.81, 417.29, 100);
  public static final PaperRow PAPER_BASE = new PaperRow(221.61, 251.47, 208);

  /** The paper's row for a config, matched by name (teacher / small / base), or null. */
  public static PaperRow paperRow(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    if (n.contains("small")) return PAPER_SMALL;
    if (n.contains("base")) return PAPER_BASE;
    if (n.contains("teacher") || n.contains("m3ae")) return PAPER_TEACHER;
    return null;
  }

  /** Where and under what load the run happened. */
  public record Environment(
      String java, int cpus, String backend, String blas, int ompThreads, int blasThreads, long maxHeap,
      long javacppMaxBytes, long javacppMaxPhysicalBytes, String loadAverage) {
    static Environment capture() {
      String blas;
      try {
        blas = String.valueOf(Nd4j.factory().blas().getBlasVendor());
      } catch (RuntimeException e) {
        blas = "unknown";
      }
      int omp, blasThreads;
      try {
        omp = org.m3ae.train.ComputeThreads.opThreads();
        blasThreads = org.m3ae.train.ComputeThreads.blasThreads();
      } catch (RuntimeException e) {
        omp = -1;
        blasThreads = -1;
      }
      return new Environment(System.getProperty("java.version"), Runtime.getRuntime().availableProcessors(),
          Nd4j.getBackend().getClass().getSimpleName(), blas, omp, blasThreads, Runtime.getRuntime().maxMemory(),
          Pointer.maxBytes(), Pointer.maxPhysicalBytes(), currentLoad());
    }

    static String currentLoad() {
      try {
        return Files.readString(Path.of("/proc/loadavg")).trim();
      } catch (IOException e) {
        return String.valueOf(ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
      }
    }
  }

  /** One timed operation: per-repeat stats, the FLOPs of one pair, peak memory, physical bytes after each repeat. */
  public record Measurement(int batch, Stats stats, Stats cpuStats, long flopsPerPair, MemorySampler.Peak peak,
      long[] physicalAfterRepeat) {
    /** Process CPU time per wall time over the repeats: ~cores when the machine is ours, less under load. */
    public double cpuShare() {
      return cpuStats.medianMs() / stats.medianMs();
    }

    public double pairsPerSecond() {
      return batch * 1000.0 / stats.medianMs();
    }

    public double msPerPair() {
      return stats.medianMs() / batch;
    }

    public double gflops() {
      return flopsPerPair * (double) batch / (stats.medianMs() * 1e6);
    }
  }

  /** Per op type time of one profiled forward or training step ("(wall)" first: the call's or step's wall time). */
  public record OpRow(String op, long calls, double ms) {}

  /** @param peer the PyTorch peer's figures for this model ({@code --peer}), else null */
  public record ModelResult(
      String name, long parameters, int inferenceOps, double buildSeconds, long inferenceFlopsPerPair,
      long trainFlopsPerPair, Map<String, Long> inferenceFlopsByModule, Measurement latency, Measurement inference,
      Measurement train, String trainDescription, List<OpRow> profile, List<OpRow> trainProfile, PeerResult peer) {}

  public String toJson() {
    try {
      return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(this);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String ratio(double x) {
    return Double.isFinite(x) ? String.format(Locale.ROOT, "%.2f×", x) : "–";
  }

  /** A ratio as the tables print it ("2.31×", or "–" when undefined). */
  public static String ratioText(double x) {
    return ratio(x);
  }

  /** The Table 5-shaped table, then the efficiency table (GFLOP/s vs the sgemm ceiling) and memory. */
  public String toTable() {
    StringBuilder sb = new StringBuilder();
    ModelResult ref = models.isEmpty() ? null : models.get(0);
    PaperRow refPaper = ref == null ? null : paperRow(ref.name());
    sb.append(String.format(Locale.ROOT, "Table 5 on this machine (%d CPUs, %s, op threads %d, BLAS threads %s; load %s → %s). Paper values in [ ].%n",
        environment.cpus(), environment.blas(), environment.ompThreads(),
        environment.blasThreads() > 0 ? Integer.toString(environment.blasThreads()) : "?", environment.loadAverage(), loadAverageAfter));
    sb.append(String.format(Locale.ROOT, "%-15s %12s | %-32s | %-32s | %-30s%n", "model", "params",
        "training pairs/s (×) [paper]", "inference pairs/s (×) [paper]", "CPU ms/pair (×) [paper]"));
    for (ModelResult m : models) {
      PaperRow pr = paperRow(m.name());
      sb.append(String.format(Locale.ROOT, "%-15s %,12d | %-32s | %-32s | %-30s%n", m.name(), m.parameters(),
          cell(m.train(), ref == null ? null : ref.train(), true, pr == null ? 0 : pr.trainPairsPerS(), refPaper == null ? 0 : refPaper.trainPairsPerS()),
          cell(m.inference(), ref == null ? null : ref.inference(), true, pr == null ? 0 : pr.inferencePairsPerS(), refPaper == null ? 0 : refPaper.inferencePairsPerS()),
          cell(m.latency(), ref == null ? null : ref.latency(), false, pr == null ? 0 : pr.cpuMsPerPair(), refPaper == null ? 0 : refPaper.cpuMsPerPair())));
    }
    sb.append(String.format(Locale.ROOT, "%nEfficiency: model GFLOP/s (matmul FLOPs from the config) vs the sgemm %d³ ceiling = %.1f GFLOP/s "
        + "(the higher median of the run's two measurements: %.1f at the start, %.1f at the end)%n", sgemm.m(), ceilingGflops(),
        sgemm.gflops(), sgemmAfter == null ? Double.NaN : sgemmAfter.gflops()));
    sb.append(String.format(Locale.ROOT, "%-15s %9s %9s | %-24s | %-24s | %-24s%n", "model", "GFLOP/inf", "GFLOP/trn",
        "inference GF/s (% ceil)", "latency GF/s (% ceil)", "train GF/s (% ceil)"));
    for (ModelResult m : models) {
      sb.append(String.format(Locale.ROOT, "%-15s %9.1f %9.1f | %-24s | %-24s | %-24s%n", m.name(),
          m.inferenceFlopsPerPair() / 1e9, m.trainFlopsPerPair() / 1e9, eff(m.inference()), eff(m.latency()), eff(m.train())));
    }
    sb.append(String.format(Locale.ROOT, "%nMemory peaks (heap / JavaCPP off-heap / process physical), min–max ms per repeat, process CPU time / wall time:%n"));
    for (ModelResult m : models) {
      sb.append(String.format(Locale.ROOT, "%-15s inference %s | latency %s | train %s%n", m.name(), mem(m.inference()),
          mem(m.latency()), mem(m.train())));
    }
    for (ModelResult m : models) {
      if (m.trainDescription() != null) {
        sb.append(String.format(Locale.ROOT, "train step of %s: %s (batch %d)%n", m.name(), m.trainDescription(), m.train().batch()));
      }
    }
    if (peer != null) sb.append(peerTable());
    return sb.toString();
  }

  /**
   * Every Java figure beside the PyTorch peer's, measured in the same run right after it, and their ratio (Java time
   * ÷ PyTorch time: above 1 Java is slower); parameter counts; peak memory; max |Java − PyTorch| on the same weights
   * and inputs.
   */
  private String peerTable() {
    StringBuilder sb = new StringBuilder();
    if (models.stream().allMatch(m -> m.peer() == null)) {
      return String.format(Locale.ROOT, "%nPyTorch peer: %s%n", peer);
    }
    sb.append(String.format(Locale.ROOT, "%nPyTorch peer: %s. Same shapes, same run; ms Java / PyTorch (Java ÷ PyTorch):%n", peer));
    sb.append(String.format(Locale.ROOT, "%-15s %-14s | %-26s | %-26s | %-26s | %-18s | %s%n", "model", "params = torch",
        "inference ms (×)", "latency ms (×)", "train ms (×)", "train peak GB J/T", "max |Java − PyTorch| (batch)"));
    for (ModelResult m : models) {
      PeerResult p = m.peer();
      if (p == null) continue;
      if (p.torch() == null) {
        sb.append(String.format(Locale.ROOT, "%-15s peer failed: %s%n", m.name(), p.error()));
        continue;
      }
      sb.append(String.format(Locale.ROOT, "%-15s %-14s | %-26s | %-26s | %-26s | %-18s | %s%n", m.name(),
          p.backboneParameters() == m.parameters() ? "equal" : String.format(Locale.ROOT, "%,d", p.backboneParameters()),
          peerCell(m.inference(), p.inference()), peerCell(m.latency(), p.latency()), peerCell(m.train(), p.train()),
          m.train() == null || p.train() == null ? "–" : String.format(Locale.ROOT, "%.2f / %.2f",
              m.train().peak().physicalBytes() / 1e9, p.train().peakRssBytes() / 1e9),
          parity(p)));
    }
    for (ModelResult m : models) {
      PeerResult p = m.peer();
      if (p != null && p.torch() != null && p.error() != null) {
        sb.append(String.format(Locale.ROOT, "peer of %s: %s%n", m.name(), p.error()));
      }
      if (p != null && p.trainDescription() != null) {
        sb.append(String.format(Locale.ROOT, "peer train step of %s: %s (batch %d)%n", m.name(), p.trainDescription(),
            p.train().batch()));
      }
    }
    return sb.toString();
  }

  private static String peerCell(Measurement java, PeerResult.Timing torch) {
    if (java == null || torch == null) return "–";
    return String.format(Locale.ROOT, "%.1f / %.1f (%s)", java.stats().medianMs(), torch.medianMs(),
        ratio(PeerResult.ratio(java, torch)));
  }

  private static String parity(PeerResult p) {
    if (p.maxAbsDiff() == null || p.maxAbsDiff().isEmpty()) return "–";
    StringBuilder sb = new StringBuilder();
    p.maxAbsDiff().forEach((k, v) -> sb.append(sb.length() == 0 ? "" : ", ").append(k).append(' ')
        .append(String.format(Locale.ROOT, "%.1e", v)));
    return sb.append(" (").append(p.parityBatch()).append(')').toString();
  }

  private String cell(Measurement m, Measurement ref, boolean throughput, double paper, double paperRef) {
    if (m == null) return paper > 0 ? String.format(Locale.ROOT, "– [%s]", paperCell(paper, paperRef, throughput)) : "–";
    double v = throughput ? m.pairsPerSecond() : m.msPerPair();
    double x = ref == null ? Double.NaN : throughput ? m.pairsPerSecond() / ref.pairsPerSecond() : ref.msPerPair() / m.msPerPair();
    String here = String.format(Locale.ROOT, throughput ? "%.3f (%s)" : "%.0f (%s)", v, ratio(x));
    return paper > 0 ? here + " [" + paperCell(paper, paperRef, throughput) + "]" : here;
  }

  private static String paperCell(double paper, double paperRef, boolean throughput) {
    double x = paperRef <= 0 ? Double.NaN : throughput ? paper / paperRef : paperRef / paper;
    return String.format(Locale.ROOT, throughput ? "%.2f, %s" : "%.0f, %s", paper, ratio(x));
  }

  /**
   * The ceiling the efficiency columns divide by: the higher of the sgemm medians measured at the start and at the
   * end of the run. This machine's sgemm rate moves by up to a third within minutes (52 → 76 GFLOP/s in one run), and
   * the lower figure would flatter every percentage.
   */
  public double ceilingGflops() {
    return Math.max(sgemm.gflops(), sgemmAfter == null ? 0 : sgemmAfter.gflops());
  }

  private String eff(Measurement m) {
    if (m == null) return "–";
    return String.format(Locale.ROOT, "%.1f (%.0f%%)", m.gflops(), 100 * m.gflops() / ceilingGflops());
  }

  private static String mem(Measurement m) {
    if (m == null) return "–";
    var p = m.peak();
    return String.format(Locale.ROOT, "%.2f/%.2f/%.2f GB, %.0f–%.0f ms, CPU %.1f×", p.heapBytes() / 1e9, p.offHeapBytes() / 1e9,
        p.physicalBytes() / 1e9, m.stats().minMs(), m.stats().maxMs(), m.cpuShare());
  }
}
