package org.m3ae.ablate;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The {@code ablate} command: lays out a grid ({@link GridPlan}), makes its shared runs once, runs every cell that has
 * no result yet ({@link CellRunner}), and writes the table ({@link GridReport}). Rerunning with {@code resume} skips
 * finished cells and continues an interrupted one.
 */
public final class AblateRun {
  public static final String GRID_COPY = "grid.yaml";

  /** The report, the files written, how many cells ran now and how many were already finished, wall seconds. */
  public record Outcome(GridReport report, List<Path> files, int ran, int skipped, double seconds) {}

  private AblateRun() {}

  /**
   * Which cells a process runs: part {@code k} of {@code n} takes cells k−1, k−1+n, k−1+2n, … of the grid's order
   * (variant-major, so every part gets a share of each variant), letting n processes share one output directory.
   * Shared runs are made by part 1; the other parts wait for them. Each part writes the report of every cell finished
   * so far (its own and the other parts'); the last to finish writes the complete one, and {@code --resume} rewrites
   * it at any time without running anything finished.
   */
  public record Part(int k, int n) {
    public static final Part ALL = new Part(1, 1);

    public Part {
      if (n < 1 || k < 1 || k > n) throw new IllegalArgumentException("--part " + k + "/" + n + ": need 1 ≤ K ≤ N");
    }

    /** Parses {@code K/N}. */
    public static Part parse(String s) {
      String[] kn = s.split("/");
      try {
        if (kn.length == 2) return new Part(Integer.parseInt(kn[0].trim()), Integer.parseInt(kn[1].trim()));
      } catch (NumberFormatException e) {
        // the message below
      }
      throw new IllegalArgumentException("--part '" + s + "': expected K/N, e.g. 2/3");
    }

    boolean owns(int cell) {
      return cell % n == k - 1;
    }

    boolean whole() {
      return n == 1;
    }
  }

  public static Outcome run(Path gridFile, Path out, boolean resume, PrintStream o) {
    return run(gridFile, out, resume, Part.ALL, o);
  }

  public static Outcome run(Path gridFile, Path out, boolean resume, Part part, PrintStream o) {
    long t0 = System.nanoTime();
    GridConfig g = GridConfig.load(gridFile);
    Path copy = out.resolve(GRID_COPY);
    if (Files.exists(copy) && !part.whole()) {
      // parts share the directory: another part may have started it, with this same grid only
      if (!sameBytes(copy, gridFile)) {
        throw new IllegalArgumentException(out + " holds another grid (" + copy + " differs from " + gridFile + "): every "
            + "part must run the same grid file; choose another --out");
      }
    } else if (!resume && Files.exists(copy)) {
      throw new IllegalArgumentException(out + " already holds a grid run (" + copy + "): pass --resume to continue it, "
          + "or choose another --out");
    }
    GridPlan plan = GridPlan.of(g, gridFile, out);
    try {
      Files.createDirectories(out);
      if (!Files.exists(copy) || !sameBytes(copy, gridFile)) {
        Path tmp = out.resolve(GRID_COPY + ".tmp" + part.k());
        Files.copy(gridFile, tmp, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.move(tmp, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + copy, e);
    }
    int n = plan.cells.size();
    o.printf("ablate %s: %d variants × %d seeds = %d cells, %d shared run(s); out %s%n", g.name(), g.variants().size(),
        g.seeds().size(), n, plan.shared.size(), plan.out);

    for (GridPlan.SharedRun s : plan.shared) {
      if (!Files.exists(s.doneFile()) && part.k() > 1) {
        o.printf("shared run %s: made by part 1/%d; waiting for %s%n", s.name(), part.n(), s.doneFile());
        awaitFile(s.doneFile());
      }
      if (Files.exists(s.doneFile())) {
        o.printf("shared run %s: done (%s)%n", s.name(), s.weights());
        continue;
      }
      o.printf("shared run %s: %s%n", s.name(), s.configFile());
      try (PrintStream tee = tee(o, s.dir().resolve("log.txt"))) {
        double sec = CellRunner.pretrain(s.config(), s.configFile(), s.runDir(), s.doneFile(), tee);
        o.printf(Locale.ROOT, "shared run %s finished in %.1f min%n", s.name(), sec / 60);
      }
    }

    int ran = 0, skipped = 0;
    double ranSeconds = 0;
    for (int i = 0; i < n; i++) {
      GridPlan.Cell c = plan.cells.get(i);
      String head = String.format(Locale.ROOT, "cell %d/%d %s (variant '%s', seed %d)", i + 1, n, c.id(), c.label(), c.seed());
      if (Files.exists(c.resultFile())) {
        CellResult r = CellResult.read(c.resultFile());
        skipped++;
        o.printf("%s: finished earlier (%s), skipped%n", head, r.finished());
        continue;
      }
      if (!part.owns(i)) continue; // another part's; its result joins the report below if it has finished
      o.println(head + ": running");
      long c0 = System.nanoTime();
      CellResult r;
      try (PrintStream tee = tee(o, c.dir().resolve("log.txt"))) {
        r = CellRunner.run(c, g.itm(), g.retrieval() == null ? 0 : g.retrieval().maxPairs(), g.featureRetrieval(), tee);
      }
      double sec = (System.nanoTime() - c0) / 1e9;
      ran++;
      ranSeconds += sec;
      // cells still to run (a resumed grid skips the finished ones, which cost nothing)
      int left = 0;
      for (int j = i + 1; j < n; j++) if (part.owns(j) && !Files.exists(plan.cells.get(j).resultFile())) left++;
      o.printf(Locale.ROOT, "%s: done in %.1f min (pretrain %.0f s, finetune %.0f s, evaluate %.0f s): VQA overall %.1f %%, ITM %.1f %%%s"
              + "%s%n", head, sec / 60, r.seconds().get("pretrain"), r.seconds().get("finetune"), r.seconds().get("evaluate"),
          100 * r.metrics().get("vqa_overall"), 100 * r.metrics().get("itm_accuracy"),
              (r.metrics().containsKey("i2t_r10") ? String.format(Locale.ROOT, ", R@10 image→text %.1f %%, text→image %.1f %%",
                  100 * r.metrics().get("i2t_r10"), 100 * r.metrics().get("t2i_r10")) : ""),
          left == 0 ? "" : String.format(Locale.ROOT, "; %d cell(s) left, about %.0f min", left, ranSeconds / ran * left / 60));
    }

    // every finished cell, from its cell.json: this process's, earlier runs' and other parts'
    List<CellResult> results = new ArrayList<>();
    for (GridPlan.Cell c : plan.cells) if (Files.exists(c.resultFile())) results.add(CellResult.read(c.resultFile()));
    if (!part.whole()) {
      o.printf("part %d/%d: %d cell(s) run; %d of the grid's %d cells finished, all in the report below%n", part.k(), part.n(),
          ran, results.size(), n);
    }
    GridReport report = new GridReport(g.name(), g.variants().stream().map(GridConfig.Variant::label).toList(),
        g.reference().label(), results);
    List<Path> files = report.write(out);
    o.println();
    o.print(report.markdown());
    o.printf(Locale.ROOT, "%nablate %s: %d cell(s) run, %d skipped, %.1f min; %s%n", g.name(), ran, skipped,
        (System.nanoTime() - t0) / 60e9, files.stream().map(Path::toString).reduce((a, b) -> a + ", " + b).orElse(""));
    return new Outcome(report, files, ran, skipped, (System.nanoTime() - t0) / 1e9);
  }

  private static boolean sameBytes(Path a, Path b) {
    try {
      return java.util.Arrays.equals(Files.readAllBytes(a), Files.readAllBytes(b));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + a + " or " + b, e);
    }
  }

  /** Polls for {@code f} (a shared run another part makes: minutes to hours). */
  private static void awaitFile(Path f) {
    while (!Files.exists(f)) {
      try {
        Thread.sleep(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for " + f, e);
      }
    }
  }

  /** {@code o} and {@code file} (appended) together, so that a cell's log stays in its directory. */
  static PrintStream tee(PrintStream o, Path file) {
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      OutputStream f = Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
      return new PrintStream(new OutputStream() {
        @Override
        public void write(int b) throws IOException {
          o.write(b);
          f.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
          o.write(b, off, len);
          f.write(b, off, len);
        }

        @Override
        public void flush() throws IOException {
          o.flush();
          f.flush();
        }

        @Override
        public void close() throws IOException {
          o.flush();
          f.close();
        }
      }, true, java.nio.charset.StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open " + file, e);
    }
  }
}
