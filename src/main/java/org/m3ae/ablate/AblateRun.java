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

  public static Outcome run(Path gridFile, Path out, boolean resume, PrintStream o) {
    long t0 = System.nanoTime();
    GridConfig g = GridConfig.load(gridFile);
    Path copy = out.resolve(GRID_COPY);
    if (!resume && Files.exists(copy)) {
      throw new IllegalArgumentException(out + " already holds a grid run (" + copy + "): pass --resume to continue it, "
          + "or choose another --out");
    }
    GridPlan plan = GridPlan.of(g, gridFile, out);
    try {
      Files.createDirectories(out);
      Files.copy(gridFile, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + copy, e);
    }
    int n = plan.cells.size();
    o.printf("ablate %s: %d variants × %d seeds = %d cells, %d shared run(s); out %s%n", g.name(), g.variants().size(),
        g.seeds().size(), n, plan.shared.size(), plan.out);

    for (GridPlan.SharedRun s : plan.shared) {
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

    List<CellResult> results = new ArrayList<>();
    int ran = 0, skipped = 0;
    double ranSeconds = 0;
    for (int i = 0; i < n; i++) {
      GridPlan.Cell c = plan.cells.get(i);
      String head = String.format(Locale.ROOT, "cell %d/%d %s (variant '%s', seed %d)", i + 1, n, c.id(), c.label(), c.seed());
      if (Files.exists(c.resultFile())) {
        CellResult r = CellResult.read(c.resultFile());
        results.add(r);
        skipped++;
        o.printf("%s: finished earlier (%s), skipped%n", head, r.finished());
        continue;
      }
      o.println(head + ": running");
      long c0 = System.nanoTime();
      CellResult r;
      try (PrintStream tee = tee(o, c.dir().resolve("log.txt"))) {
        r = CellRunner.run(c, g.itm(), g.retrieval() == null ? 0 : g.retrieval().maxPairs(), tee);
      }
      double sec = (System.nanoTime() - c0) / 1e9;
      ran++;
      ranSeconds += sec;
      results.add(r);
      // cells still to run (a resumed grid skips the finished ones, which cost nothing)
      int left = (int) plan.cells.subList(i + 1, n).stream().filter(x -> !Files.exists(x.resultFile())).count();
      o.printf(Locale.ROOT, "%s: done in %.1f min (pretrain %.0f s, finetune %.0f s, evaluate %.0f s): VQA overall %.1f %%, ITM %.1f %%%s"
              + "%s%n", head, sec / 60, r.seconds().get("pretrain"), r.seconds().get("finetune"), r.seconds().get("evaluate"),
          100 * r.metrics().get("vqa_overall"), 100 * r.metrics().get("itm_accuracy"),
              (r.metrics().containsKey("i2t_r10") ? String.format(Locale.ROOT, ", R@10 image→text %.1f %%, text→image %.1f %%",
                  100 * r.metrics().get("i2t_r10"), 100 * r.metrics().get("t2i_r10")) : ""),
          left == 0 ? "" : String.format(Locale.ROOT, "; %d cell(s) left, about %.0f min", left, ranSeconds / ran * left / 60));
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
