package org.m3ae.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.function.Consumer;
import org.m3ae.data.SkipReport;
import org.m3ae.weights.GraphWeights;
import org.nd4j.autodiff.samediff.SameDiff;

/**
 * The directory of one training run (pre-training or fine-tuning) and the names of what lies in it. The UI,
 * {@code --resume}, the ablation runner, the demo and {@code evaluate}/{@code predict} read these names, so they
 * are spelled here once:
 * <pre>
 *   run.json            what the run is: kind, model, config, ... and when it started
 *   metrics.jsonl       one line per step and validation ({@link MetricsJsonl})
 *   checkpoints/        step-NNNNNNNN/ for --resume ({@link Checkpoints})
 *   bad-records.json    records the data pipeline skipped ({@link SkipReport})
 *   model.safetensors   the final (fine-tuning: the selected) weights, by graph name
 *   last.safetensors    fine-tuning: the weights after the last step
 *   model.sdz           the inference graph with those weights, when SameDiff can save it
 * </pre>
 * Task runs add {@code task.json} and {@code splits/} (package {@code tasks}).
 */
public record RunDir(Path path) {
  public static final String RUN_JSON = "run.json";
  public static final String WEIGHTS = "model.safetensors";
  public static final String LAST_WEIGHTS = "last.safetensors";
  public static final String SDZ = "model.sdz";
  private static final ObjectMapper JSON = new ObjectMapper();

  public Path runJson() {
    return path.resolve(RUN_JSON);
  }

  public Path metrics() {
    return path.resolve(MetricsJsonl.FILE);
  }

  public Path badRecords() {
    return path.resolve(SkipReport.FILE);
  }

  /** A run's default directory, runs/&lt;name&gt; (the commands' {@code --out} overrides it). */
  public static RunDir of(String runName) {
    return new RunDir(Path.of("runs", runName));
  }

  /**
   * The weights a scoring command reads: {@code checkpoint} (a weights file, or a run directory holding one), else
   * those of run {@code runName}'s default directory, runs/&lt;name&gt;; a missing file is an error naming it.
   */
  public static Path weightsFor(String runName, Path checkpoint) {
    Path w = checkpoint != null ? checkpoint : of(runName).weights();
    if (java.nio.file.Files.isDirectory(w)) w = w.resolve(WEIGHTS);
    if (!java.nio.file.Files.isRegularFile(w)) throw new IllegalArgumentException(w + ": no such weights file (pass --checkpoint)");
    return w;
  }

  public Path weights() {
    return path.resolve(WEIGHTS);
  }

  public Path lastWeights() {
    return path.resolve(LAST_WEIGHTS);
  }

  public Path sdz() {
    return path.resolve(SDZ);
  }

  /** The run's checkpoints, keeping the last {@code keep}. */
  public Checkpoints checkpoints(int keep) {
    return new Checkpoints(path, keep);
  }

  /** Writes {@code run.json}: the fields {@code describe} puts, in its order, then {@code started} (now). */
  public void writeRunJson(Consumer<ObjectNode> describe) {
    ObjectNode n = JSON.createObjectNode();
    describe.accept(n);
    n.put("started", Instant.now().toString());
    try {
      Files.createDirectories(path);
      Files.writeString(runJson(), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + runJson(), e);
    }
  }

  /** The data's skip counts and examples as {@code bad-records.json}. */
  public void writeSkipReport(SkipReport report) {
    try {
      report.write(path);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + badRecords(), e);
    }
  }

  /** Every trainable variable of {@code sd}, by graph name, as {@code model.safetensors}. */
  public Path writeWeights(SameDiff sd, String configName) {
    GraphWeights.write(sd, weights(), configName);
    return weights();
  }

  /**
   * Saves {@code inference} as {@code model.sdz}, loadable by any DL4J application, when its weights fit SameDiff's
   * FlatBuffers limit (~1 GiB: not the teacher-size model); returns the file, or null when too large.
   */
  public Path saveInferenceGraph(SameDiff inference) {
    if (GraphWeights.trainableBytes(inference) > GraphWeights.SDZ_LIMIT_BYTES) return null;
    inference.save(new File(sdz().toString()), false);
    return sdz();
  }
}
