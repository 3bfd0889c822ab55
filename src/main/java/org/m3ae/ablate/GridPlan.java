package org.m3ae.ablate;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.m3ae.model.ConfigException;
import org.m3ae.tasks.DemoFinetune;
import org.m3ae.tasks.TaskConfig;
import org.m3ae.tasks.TaskKind;
import org.m3ae.train.RunConfig;
import org.m3ae.train.RunDir;

/**
 * A grid laid out on disk: every shared run and every cell (variant × seed) with its merged run and fine-tuning
 * configs, written and parsed by their own loaders before anything trains, so that a bad override fails at once.
 *
 * <pre>
 * OUT/grid.yaml                           the grid as given
 * OUT/shared/NAME/run.yaml, pretrain/     a shared run (teacher), made once
 * OUT/cells/VARIANT/seed-S/run.yaml       the cell's run config after overrides and seed
 * OUT/cells/VARIANT/seed-S/finetune.yaml  its fine-tuning config
 * OUT/cells/VARIANT/seed-S/retrieval.yaml its retrieval config (grids with a {@code retrieval} key)
 * OUT/cells/VARIANT/seed-S/pretrain/, finetune/, test/, retrieval/, retrieval-test/, cell.json (the cell's
 *                                         result), log.txt
 * </pre>
 */
public final class GridPlan {
  public static final String RUN_FILE = "run.yaml";
  public static final String FINETUNE_FILE = "finetune.yaml";
  public static final String RETRIEVAL_FILE = "retrieval.yaml";
  public static final String RESULT_FILE = "cell.json";

  /** A prerequisite run: its directory ({@code pretrain/} inside), merged config file and config. */
  public record SharedRun(String name, Path dir, Path configFile, RunConfig config) {
    public Path runDir() {
      return dir.resolve("pretrain");
    }

    public Path weights() {
      return runDir().resolve(RunDir.WEIGHTS);
    }

    public Path doneFile() {
      return dir.resolve("done.json");
    }
  }

  /**
   * One cell of the grid; {@code retrieval} is null in a grid without a retrieval task; {@code shared} is the shared
   * run whose weights the cell fine-tunes as they are (a {@code shared:} variant), else null.
   */
  public record Cell(int variantIndex, GridConfig.Variant variant, long seed, Path dir, Path runFile, RunConfig run,
      Path finetuneFile, TaskConfig finetune, Path retrievalFile, TaskConfig retrieval, SharedRun shared) {
    public String label() {
      return variant.label();
    }

    public String id() {
      return GridConfig.slug(variant.label()) + "/seed-" + seed;
    }

    public Path pretrainDir() {
      return dir.resolve("pretrain");
    }

    /** The pre-trained weights the cell fine-tunes and scores for ITM: its own run's, or the shared run's. */
    public Path weights() {
      return shared != null ? shared.weights() : pretrainDir().resolve(RunDir.WEIGHTS);
    }

    public Path pretrainDone() {
      return dir.resolve("pretrain.json");
    }

    public Path finetuneDir() {
      return dir.resolve("finetune");
    }

    public Path finetuneDone() {
      return dir.resolve("finetune.json");
    }

    public Path testDir() {
      return dir.resolve("test");
    }

    public Path retrievalDir() {
      return dir.resolve("retrieval");
    }

    public Path retrievalDone() {
      return dir.resolve("retrieval.json");
    }

    public Path retrievalTestDir() {
      return dir.resolve("retrieval-test");
    }

    public Path resultFile() {
      return dir.resolve(RESULT_FILE);
    }
  }

  public final GridConfig grid;
  public final Path gridFile;
  public final Path out;
  public final List<SharedRun> shared;
  public final List<Cell> cells;

  private GridPlan(GridConfig grid, Path gridFile, Path out, List<SharedRun> shared, List<Cell> cells) {
    this.grid = grid;
    this.gridFile = gridFile;
    this.out = out;
    this.shared = shared;
    this.cells = cells;
  }

  /** Merges, writes and parses every config of the grid under {@code out}; throws on the first bad one. */
  public static GridPlan of(GridConfig g, Path gridFile, Path out) {
    out = out.normalize();
    Map<String, SharedRun> shared = new LinkedHashMap<>();
    for (var e : g.shared().entrySet()) {
      String where = gridFile + ": shared run '" + e.getKey() + "'";
      Path dir = out.resolve("shared").resolve(e.getKey());
      ObjectNode tree = ConfigTree.merge(ConfigTree.read(Path.of(e.getValue().run())), e.getValue().overrides());
      // a shared run may use the shared runs declared before it
      ConfigTree.resolveShared(tree, n -> shared.containsKey(n) ? shared.get(n).weights().toString() : null, where);
      Path file = dir.resolve(RUN_FILE);
      boolean started = Files.exists(dir.resolve("pretrain"));
      RunConfig rc = ConfigTree.writeAndLoad(tree, file, RunConfig::load, where, started);
      shared.put(e.getKey(), new SharedRun(e.getKey(), dir, file, rc));
    }
    List<Cell> cells = new ArrayList<>();
    for (int vi = 0; vi < g.variants().size(); vi++) {
      GridConfig.Variant v = g.variants().get(vi);
      String base = v.run() != null ? v.run() : g.run();
      for (long seed : g.seeds()) {
        String where = gridFile + ": variant '" + v.label() + "', seed " + seed;
        Path dir = out.resolve("cells").resolve(GridConfig.slug(v.label())).resolve("seed-" + seed);
        // once anything of the cell has run, its configs may no longer change
        boolean started = Files.exists(dir.resolve("pretrain")) || Files.exists(dir.resolve("finetune"))
            || Files.exists(dir.resolve(RESULT_FILE));
        String name = GridConfig.slug(g.name()) + "-" + GridConfig.slug(v.label()) + "-s" + seed;
        SharedRun from = v.shared() == null ? null : shared.get(v.shared());
        Path runFile, weights;
        RunConfig rc;
        if (from != null) {
          // the shared run's weights as they are: its config and weights; only the fine-tuning seed varies
          runFile = from.configFile();
          rc = from.config();
          weights = from.weights();
        } else {
          ObjectNode run = ConfigTree.read(Path.of(base));
          ConfigTree.merge(run, g.overrides());
          ConfigTree.merge(run, v.overrides());
          run.put("name", name);
          ConfigTree.merge(run, ConfigTree.empty().put("train.seed", seed));
          ConfigTree.resolveShared(run, n -> shared.containsKey(n) ? shared.get(n).weights().toString() : null, where);
          runFile = dir.resolve(RUN_FILE);
          rc = ConfigTree.writeAndLoad(run, runFile, RunConfig::load, where, started);
          weights = dir.resolve("pretrain").resolve(RunDir.WEIGHTS);
        }

        Path ftFile = dir.resolve(FINETUNE_FILE);
        TaskConfig tc = ConfigTree.writeAndLoad(finetuneTree(g, gridFile, name, rc.model(), weights, seed), ftFile,
            TaskConfig::load, where + " (finetune)", started);
        Path irFile = null;
        TaskConfig ir = null;
        if (g.retrieval() != null) {
          irFile = dir.resolve(RETRIEVAL_FILE);
          ir = ConfigTree.writeAndLoad(retrievalTree(g.retrieval(), name, rc.model(), weights, seed), irFile,
              TaskConfig::load, where + " (retrieval)", started);
          if (ir.kind() != TaskKind.RETRIEVAL) {
            throw new ConfigException(gridFile + ": key 'retrieval.config': " + g.retrieval().config() + " is a '" + ir.task()
                + "' task, not retrieval");
          }
        }
        cells.add(new Cell(vi, v, seed, dir, runFile, rc, ftFile, tc, irFile, ir, from));
      }
    }
    return new GridPlan(g, gridFile, out, List.copyOf(shared.values()), List.copyOf(cells));
  }

  /** The cell's retrieval config: the grid's file with the cell's model, pre-trained weights as init, steps and seed. */
  static ObjectNode retrievalTree(GridConfig.Retrieval r, String name, String model, Path init, long seed) {
    ObjectNode t = ConfigTree.read(Path.of(r.config()));
    t.put("name", name + "-ir");
    t.put("model", model);
    t.put("init", init.toString());
    if (r.steps() != null) ConfigTree.merge(t, ConfigTree.empty().put("train.max_steps", r.steps()));
    ConfigTree.merge(t, r.overrides());
    ConfigTree.merge(t, ConfigTree.empty().put("train.seed", seed));
    return t;
  }

  /**
   * The cell's fine-tuning config: the demo's settings or the grid's task config file, with the cell's model, its
   * pre-trained weights as init, the grid's pipeline, steps and overrides, and the cell's seed.
   */
  static ObjectNode finetuneTree(GridConfig g, Path gridFile, String name, String model, Path init, long seed) {
    GridConfig.Finetune f = g.finetune();
    ObjectNode t;
    if (f.config().equals(GridConfig.DEMO)) {
      if (f.steps() == null) throw new ConfigException(gridFile + ": key 'finetune.steps': the demo's fine-tuning needs a step count");
      t = ConfigTree.tree(DemoFinetune.settings(name, model, f.steps()));
    } else {
      t = ConfigTree.read(Path.of(f.config()));
    }
    t.put("name", name + "-ft");
    t.put("model", model);
    t.put("init", init.toString());
    if (f.pipeline() != null) ConfigTree.merge(t, ConfigTree.empty().put("data.pipeline", f.pipeline()));
    if (f.steps() != null) ConfigTree.merge(t, ConfigTree.empty().put("train.max_steps", f.steps()));
    ConfigTree.merge(t, f.overrides());
    ConfigTree.merge(t, ConfigTree.empty().put("train.seed", seed));
    return t;
  }
}
