package org.m3ae.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Checkpoint directories {@code <run>/checkpoints/step-NNNNNNNN/} holding {@code model.safetensors} (weights by graph
 * name), {@code optimizer.safetensors} (AdamW moments: separate, since SameDiff cannot serialise past ~1 GiB),
 * {@code state.json} (next step, data position, seed) and a copy of the run and model configs.
 *
 * <p>Atomic: everything is written into {@code step-NNNNNNNN.tmp/}, fsynced, and the directory is renamed at the
 * end, so a process killed at any moment leaves either the previous checkpoints or a complete new one; leftover
 * {@code .tmp} directories are ignored and removed. Only the last {@code keep} checkpoints are kept.
 */
public final class Checkpoints {
  private static final ObjectMapper JSON = new ObjectMapper();
  public static final String MODEL = "model.safetensors";
  public static final String OPTIMIZER = "optimizer.safetensors";
  public static final String STATE = "state.json";

  /** What a checkpoint records besides the tensors. */
  public record State(int nextStep, int epoch, int batchIndex, long seed, String runName) {}

  /** Writes the files of one checkpoint into a directory it is handed. */
  public interface Writer {
    void write(Path dir) throws IOException;
  }

  /** Reads back from a checkpoint directory what the run wrote there besides the optimiser (its weights, ...). */
  public interface Reader {
    void read(Path dir);
  }

  private final Path root;
  private final int keep;

  public Checkpoints(Path runDir, int keep) {
    this.root = runDir.resolve("checkpoints");
    this.keep = Math.max(1, keep);
  }

  public Path root() {
    return root;
  }

  public Path save(State state, Writer tensors, List<Path> configCopies) {
    Path dir = root.resolve(String.format("step-%08d", state.nextStep()));
    Path tmp = root.resolve(dir.getFileName() + ".tmp");
    try {
      Files.createDirectories(root);
      deleteTree(tmp);
      Files.createDirectories(tmp);
      tensors.write(tmp);
      for (Path c : configCopies) {
        if (c != null && Files.exists(c)) Files.copy(c, tmp.resolve(c.getFileName()), StandardCopyOption.REPLACE_EXISTING);
      }
      ObjectNode n = JSON.createObjectNode();
      n.put("next_step", state.nextStep());
      n.put("epoch", state.epoch());
      n.put("batch_index", state.batchIndex());
      n.put("seed", state.seed());
      n.put("run", state.runName());
      n.put("written", java.time.Instant.now().toString());
      Files.writeString(tmp.resolve(STATE), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n));
      try (Stream<Path> files = Files.list(tmp)) {
        for (Path f : files.toList()) fsync(f);
      }
      deleteTree(dir);
      try {
        Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, dir);
      }
      fsync(root);
      prune();
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write checkpoint " + dir + ": " + e.getMessage(), e);
    }
  }

  /** Complete checkpoints, oldest first. */
  public List<Path> list() {
    if (!Files.isDirectory(root)) return List.of();
    try (Stream<Path> s = Files.list(root)) {
      return s.filter(p -> p.getFileName().toString().matches("step-\\d{8}"))
          .filter(p -> Files.exists(p.resolve(STATE)) && Files.exists(p.resolve(MODEL)))
          .sorted(Comparator.comparing(p -> p.getFileName().toString()))
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public Optional<Path> latest() {
    List<Path> all = list();
    return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
  }

  /**
   * {@code --resume}: restores the latest complete checkpoint — the run's own tensors and state through
   * {@code restore}, then AdamW's moments for {@code trainable} and the data stream's position — and returns it; null
   * when there is none (the run then starts at step 0). Both are announced on {@code out}.
   */
  public Path resume(Reader restore, AdamW adam, List<String> trainable, BatchStream stream, java.io.PrintStream out) {
    Optional<Path> latest = latest();
    if (latest.isEmpty()) {
      out.println("--resume: no complete checkpoint in " + root + "; starting at step 0");
      return null;
    }
    Path dir = latest.get();
    State st = readState(dir);
    restore.read(dir);
    adam.load(dir.resolve(OPTIMIZER), trainable);
    stream.seek(st.epoch(), st.batchIndex());
    out.printf("resumed from %s at step %d (epoch %d, batch %d)%n", dir, st.nextStep(), st.epoch(), st.batchIndex());
    return dir;
  }

  public static State readState(Path dir) {
    try {
      var n = JSON.readTree(dir.resolve(STATE).toFile());
      return new State(n.get("next_step").asInt(), n.get("epoch").asInt(), n.get("batch_index").asInt(),
          n.get("seed").asLong(), n.path("run").asText());
    } catch (IOException e) {
      throw new UncheckedIOException(dir.resolve(STATE) + ": unreadable checkpoint state: " + e.getMessage(), e);
    }
  }

  private void prune() throws IOException {
    List<Path> all = new ArrayList<>(list());
    while (all.size() > keep) deleteTree(all.remove(0));
    try (Stream<Path> s = Files.list(root)) {
      for (Path p : s.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList()) deleteTree(p);
    }
  }

  private static void fsync(Path p) {
    try (FileChannel ch = FileChannel.open(p, Files.isDirectory(p) ? StandardOpenOption.READ : StandardOpenOption.WRITE)) {
      ch.force(true);
    } catch (IOException ignored) {
      // directories cannot be opened for sync on every filesystem; the rename is still atomic
    }
  }

  static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p)) return;
    try (Stream<Path> s = Files.walk(p)) {
      for (Path q : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
    }
  }
}
