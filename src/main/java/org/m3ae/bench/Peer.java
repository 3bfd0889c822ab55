package org.m3ae.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.m3ae.model.M3aeGraph;
import org.m3ae.model.ModelConfig;
import org.m3ae.model.Names;
import org.m3ae.model.Pass;
import org.m3ae.model.RandomInputs;
import org.m3ae.weights.GraphWeights;
import org.m3ae.weights.SafetensorsReader;
import org.m3ae.weights.SafetensorsWriter;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The PyTorch peer of {@code bench --peer}: {@code scripts/peer/m3ae_peer.py} run by a Python with torch, on the same
 * model config, the same weights (the Java graph's random weights, handed over in a safetensors file) and the same
 * shapes, in the same bench run right after the Java figures of each model. It times inference, latency and the
 * training step as the bench does, and writes its hidden states for a batch of the Java side's inputs so that the two
 * implementations are compared as well as timed. The peer is a measuring instrument: the jar never needs Python.
 */
public final class Peer {
  /** What to print when there is no usable Python with torch. */
  public static final String INSTALL = "apt-get install -y python3-torch libopenblas0-pthread python3-yaml, and run the "
      + "peer with /usr/bin/python3 (Debian's torch; the python3 on PATH may be another interpreter)";

  /**
   * @param python the interpreter ({@code /usr/bin/python3} by default)
   * @param script {@code scripts/peer/m3ae_peer.py}, relative to the working directory (the repository root)
   * @param keepDir keep the handed-over files here (null: a temporary directory, deleted after each model)
   * @param threads torch threads; 0: as many as the Java side may use, the larger of its op and BLAS thread counts
   */
  public record Settings(Path python, Path script, Path keepDir, int threads) {
    public static Settings defaults() {
      return new Settings(Path.of("/usr/bin/python3"), Path.of("scripts/peer/m3ae_peer.py"), null, 0);
    }
  }

  /** Whether the peer can run here: its description ("torch 1.13.0a0 (/usr/bin/python3 …)") or why not. */
  public record Availability(boolean ok, String description) {}

  private final Settings settings;
  private final Consumer<String> log;

  public Peer(Settings settings, Consumer<String> log) {
    this.settings = settings;
    this.log = log;
  }

  /** Checks the script exists and the interpreter imports torch, yaml and numpy (a second or two). */
  public Availability probe() {
    if (!Files.isRegularFile(settings.script())) {
      return new Availability(false, "no peer script at " + settings.script().toAbsolutePath()
          + " (run bench from the repository root, or pass --peer-script)");
    }
    if (!Files.isExecutable(settings.python())) {
      return new Availability(false, "no Python at " + settings.python() + ": " + INSTALL);
    }
    try {
      Process p = new ProcessBuilder(settings.python().toString(), "-c",
          "import torch, yaml, numpy; print(torch.__version__)").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return new Availability(false, settings.python() + " did not answer within 120 s");
      }
      if (p.exitValue() != 0) {
        String last = out.lines().reduce((a, b) -> b).orElse("exit " + p.exitValue());
        return new Availability(false, settings.python() + " cannot import torch, yaml and numpy (" + last + "): " + INSTALL);
      }
      return new Availability(true, "torch " + out + " (" + settings.python() + " " + settings.script() + ")");
    } catch (IOException e) {
      return new Availability(false, "cannot run " + settings.python() + ": " + e.getMessage() + "; " + INSTALL);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Availability(false, "interrupted while probing " + settings.python());
    }
  }

  /**
   * The files the peer reads for one model, and the Java graph's own outputs for the compared batch. Made while the
   * Java graph is alive; the peer runs later, after the Java training figures, when the graph is gone.
   */
  public final class Handoff implements AutoCloseable {
    final Path dir;
    final Path weights;
    final Path inputs;
    final Path outputs;
    final Map<String, INDArray> java;
    final int batch;
    private final boolean temporary;

    private Handoff(Path dir, boolean temporary, Map<String, INDArray> java, int batch) {
      this.dir = dir;
      this.temporary = temporary;
      this.weights = dir.resolve("weights.safetensors");
      this.inputs = dir.resolve("inputs.safetensors");
      this.outputs = dir.resolve("outputs.safetensors");
      this.java = java;
      this.batch = batch;
    }

    @Override
    public void close() {
      if (!temporary) return;
      try (Stream<Path> files = Files.list(dir)) {
        for (Path f : files.toList()) Files.deleteIfExists(f);
        Files.deleteIfExists(dir);
      } catch (IOException e) {
        log.accept("  peer: could not remove " + dir + ": " + e.getMessage());
      }
    }
  }

  /**
   * Writes the inference graph's weights and a batch of {@code batch} random pairs, and computes the Java hidden
   * states, pooled features and joint feature of that batch (no attention maps: at full size they would be
   * gigabytes).
   */
  public Handoff handoff(M3aeGraph g, Pass p, int batch, long seed) throws IOException {
    ModelConfig c = g.config();
    Path dir;
    boolean temporary = settings.keepDir() == null;
    if (temporary) {
      dir = Files.createTempDirectory("m3ae-peer-" + c.name() + "-");
    } else {
      dir = settings.keepDir().resolve(c.name());
      Files.createDirectories(dir);
    }
    Map<String, INDArray> in = RandomInputs.forPass(g, p, batch, seed);
    Map<String, INDArray> java = g.sd().output(in, comparedNames(c, p).toArray(new String[0]));
    Handoff h = new Handoff(dir, temporary, java, batch);
    GraphWeights.write(g.sd(), h.weights, c.name());
    new SafetensorsWriter().metadata("m3ae.config", c.name())
        .add(Names.IMAGE, in.get(p.name(Names.IMAGE)))
        .add(Names.TEXT_IDS, in.get(p.name(Names.TEXT_IDS))) // float32 ids: exact below 2^24, the peer casts back
        .add(Names.TEXT_MASK, in.get(p.name(Names.TEXT_MASK)))
        .write(h.inputs);
    return h;
  }

  /** Every hidden state of the pass (as the peer's {@code --output-set hidden} writes them), pooled and joint. */
  static List<String> comparedNames(ModelConfig c, Pass p) {
    List<String> n = new ArrayList<>();
    for (int i = 0; i <= c.vision().encoder().layers(); i++) n.add(Names.visionHidden(i));
    n.add(Names.VISION_OUT);
    for (int i = 0; i <= c.text().encoder().layers(); i++) n.add(Names.textHidden(i));
    n.add(Names.TEXT_OUT);
    for (int j = 0; j <= c.fusion().layers(); j++) {
      n.add(Names.fusionHidden(Names.TEXT, j));
      n.add(Names.fusionHidden(Names.IMAGE_STREAM, j));
    }
    n.addAll(List.of(Names.POOLED_TEXT, Names.POOLED_IMAGE, Names.JOINT));
    return n.stream().map(p::name).toList();
  }

  /**
   * Runs the peer on a handoff: the timings the bench options ask for, then the comparison with the Java outputs.
   *
   * @param teacherYaml null for a pre-training step; else the peer times a distillation step from this teacher
   * @param threads torch's threads (its one pool for products and elementwise ops)
   */
  public PeerResult run(Handoff h, Path modelYaml, Path teacherYaml, Bench.Options opt, boolean train, int threads) {
    List<String> cmd = new ArrayList<>(List.of(settings.python().toString(), settings.script().toString(),
        "--model", modelYaml.toString(), "--weights", h.weights.toString(), "--inputs", h.inputs.toString(),
        "--outputs", h.outputs.toString(), "--output-set", "hidden",
        "--image-size", Integer.toString(opt.imageSize()), "--text-len", Integer.toString(opt.textLen()),
        "--batch", Integer.toString(opt.batch()), "--train-batch", Integer.toString(opt.trainBatch()),
        "--repeats", Integer.toString(opt.repeats()), "--warmup", Integer.toString(opt.warmup()),
        "--train-warmup", Integer.toString(opt.trainWarmup()), "--threads", Integer.toString(threads), "--json"));
    if (teacherYaml != null) cmd.addAll(List.of("--teacher-model", teacherYaml.toString()));
    if (!opt.inference()) cmd.add("--no-inference");
    if (!opt.latency()) cmd.add("--no-latency");
    if (!train) cmd.add("--no-train");

    long t0 = System.nanoTime();
    Deque<String> lastErr = new ArrayDeque<>();
    String out;
    int rc;
    try {
      Process proc = new ProcessBuilder(cmd).start();
      proc.getOutputStream().close();
      Thread err = new Thread(() -> {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(proc.getErrorStream(), StandardCharsets.UTF_8))) {
          for (String line; (line = r.readLine()) != null; ) {
            log.accept("  peer: " + line.strip());
            synchronized (lastErr) {
              lastErr.addLast(line.strip());
              if (lastErr.size() > 5) lastErr.removeFirst();
            }
          }
        } catch (IOException ignored) {
          // the process ended; what it printed has been logged
        }
      }, "peer-stderr");
      err.setDaemon(true);
      err.start();
      out = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      rc = proc.waitFor();
      err.join(5_000);
    } catch (IOException e) {
      return PeerResult.failed("cannot run " + cmd.get(0) + ": " + e.getMessage(), seconds(t0));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return PeerResult.failed("interrupted", seconds(t0));
    }
    if (rc != 0) {
      String why;
      synchronized (lastErr) {
        why = lastErr.isEmpty() ? "no message" : lastErr.peekLast();
      }
      return PeerResult.failed("peer exited with " + rc + (rc == 3 ? " (" + INSTALL + ")" : "") + ": " + why, seconds(t0));
    }
    JsonNode j;
    try {
      j = new ObjectMapper().readTree(out);
    } catch (IOException e) {
      return PeerResult.failed("peer printed no JSON: " + e.getMessage(), seconds(t0));
    }
    return compare(j, h, seconds(t0));
  }

  /** The peer's JSON with its outputs compared against the Java ones, max |Δ| per kind of tensor. */
  private PeerResult compare(JsonNode j, Handoff h, double wall) {
    Map<String, Double> byKind = new LinkedHashMap<>();
    String worst = null;
    double worstDiff = -1;
    int compared = 0;
    try (SafetensorsReader r = SafetensorsReader.open(h.outputs)) {
      for (var e : h.java.entrySet()) {
        String name = e.getKey();
        if (!r.contains(name)) return failedParity(j, "peer wrote no '" + name + "' to " + h.outputs, wall);
        INDArray java = e.getValue();
        long[] shape = r.shape(name);
        if (!shapeList(java).equals(shapeList(shape))) {
          return failedParity(j, name + ": peer shape " + shapeList(shape) + ", Java " + shapeList(java), wall);
        }
        INDArray torch = Nd4j.create(r.readFloats(name), shape, 'c');
        double d = java.castTo(DataType.DOUBLE).sub(torch.castTo(DataType.DOUBLE)).amaxNumber().doubleValue();
        byKind.merge(kind(name), d, Math::max);
        if (!(d <= worstDiff)) {
          worstDiff = d;
          worst = name;
        }
        compared++;
      }
    }
    return new PeerResult(null, j.path("torch").asText(), j.path("threads").asInt(), j.path("parameters").asLong(),
        j.path("backbone_parameters").asLong(), timing(j.get("inference")), timing(j.get("latency")),
        timing(j.get("train")), j.has("train") ? j.get("train").path("description").asText() : null, byKind, worst,
        compared, h.batch, j.path("peak_rss_bytes").asLong(), wall);
  }

  private PeerResult failedParity(JsonNode j, String why, double wall) {
    return new PeerResult("outputs not comparable: " + why, j.path("torch").asText(), j.path("threads").asInt(),
        j.path("parameters").asLong(), j.path("backbone_parameters").asLong(), timing(j.get("inference")),
        timing(j.get("latency")), timing(j.get("train")), null, null, null, 0, 0, j.path("peak_rss_bytes").asLong(), wall);
  }

  private static List<Long> shapeList(INDArray a) {
    return shapeList(a.shape());
  }

  private static List<Long> shapeList(long[] s) {
    List<Long> l = new ArrayList<>();
    for (long x : s) l.add(x);
    return l;
  }

  /** joint (joint + pooled), vision, text or fusion. */
  static String kind(String name) {
    if (name.equals(Names.JOINT) || name.startsWith("pooled.")) return "joint";
    if (name.startsWith("vision.")) return "vision";
    if (name.startsWith("text.")) return "text";
    return "fusion";
  }

  private static PeerResult.Timing timing(JsonNode t) {
    if (t == null || t.isNull()) return null;
    return new PeerResult.Timing(t.path("batch").asInt(), t.path("median_ms").asDouble(), t.path("min_ms").asDouble(),
        t.path("max_ms").asDouble(), t.path("n").asInt(), t.path("peak_rss_bytes").asLong());
  }

  private static double seconds(long t0) {
    return (System.nanoTime() - t0) / 1e9;
  }
}
