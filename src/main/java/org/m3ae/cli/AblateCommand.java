package org.m3ae.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.m3ae.ablate.AblateRun;
import org.m3ae.ablate.GridConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ablate}: the paper's ablations as one command. A grid of variants × seeds (configs/grids/*.yaml); every cell
 * pre-trains or distils with the variant's overrides and the seed, fine-tunes, and is scored on the test split; the
 * table of mean ± sd over seeds, the baselines and a chart per metric go to {@code --out}.
 */
@Command(name = "ablate", mixinStandardHelpOptions = true,
    description = "Run an ablation grid (variants × seeds: pre-train/distil → fine-tune → test) and write results.json, "
        + "results.md (mean ± sd, baselines, differences vs seed noise) and a bar chart per metric. Resumable.")
public final class AblateCommand implements Callable<Integer> {
  @Option(names = "--grid", required = true, paramLabel = "GRID.yaml", description = "The grid (configs/grids/*.yaml).")
  Path grid;

  @Option(names = "--out", paramLabel = "DIR", description = "Output directory (default runs/ablate/<grid name>).")
  Path out;

  @Option(names = "--resume", description = "Continue a grid in --out: finished cells are skipped, an interrupted one "
      + "continues from its last checkpoint.")
  boolean resume;

  @Option(names = "--part", paramLabel = "K/N", description = "Run every N-th cell from the K-th, so that N processes "
      + "(one per core: ND4J is fastest here at one thread per process) share one --out; part 1 makes the shared runs, "
      + "the others wait for them; each writes the report of the cells finished so far (default 1/1).")
  String part;

  @Override
  public Integer call() {
    Path dir = out != null ? out : Path.of("runs", "ablate", GridConfig.slug(GridConfig.load(grid).name()));
    AblateRun.run(grid, dir, resume, part == null ? AblateRun.Part.ALL : AblateRun.Part.parse(part), System.out);
    return 0;
  }
}
