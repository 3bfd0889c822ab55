package org.m3ae.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import org.m3ae.train.ComputeThreads;
import org.m3ae.train.CudaSupport;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of {@code java -jar m3ae-distill.jar}: one subcommand per stage of the pipeline. */
@Command(
    name = "m3ae-distill",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Distil the M3AE medical vision-language model into compact students (SameDiff, DL4J).",
    subcommands = {
      InfoCommand.class,
      PretrainCommand.class,
      DemoCommand.class,
      DataCommand.class,
      ImportCommand.class,
      ImportOnnxCommand.class,
      VerifyOnnxCommand.class,
      ExtractFeaturesCommand.class,
      InitStudentCommand.class,
      UiCommand.class,
      FinetuneCommand.class,
      EvaluateCommand.class,
      EvaluateItmCommand.class,
      EvaluateFeaturesCommand.class,
      PredictCommand.class,
      VisualizeCommand.class,
      BenchCommand.class,
      AblateCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Main implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /**
   * libnd4j's op threads (OpenMP): one by default. SameDiff runs thousands of small ops per step, and with two OpenMP
   * threads every one of them forks and joins a team that waits for the other core whenever anything else runs there
   * (docs/performance.md, "Threads").
   */
  @CommandLine.Option(names = "--threads", scope = CommandLine.ScopeType.INHERIT, paramLabel = "N",
      description = "libnd4j op threads: elementwise ops, reductions, softmax (OpenMP; default 1).")
  Integer opThreads;

  /**
   * Matrix-product threads (OpenBLAS): one by default, the fastest measured on the 2-core machines this project runs
   * on. Two helped only batched full-size inference (Small at batch 2: 1246–1380 vs 1454–1566 ms) and cost batch-1
   * latency and every tiny-model figure (docs/performance.md, "Threads"); a machine with more real cores may want more.
   */
  @CommandLine.Option(names = "--blas-threads", scope = CommandLine.ScopeType.INHERIT, paramLabel = "N",
      description = "Matrix-product threads (OpenBLAS; default 1; more can help batched full-size inference).")
  Integer blasThreads;

  /** Applies the thread counts once, before any command runs (not for --help or --version). */
  private void applyThreads() {
    int ops = opThreads == null ? 1 : opThreads;
    int blas = blasThreads == null ? 1 : blasThreads;
    if (ops < 1) throw new CommandLine.ParameterException(spec.commandLine(), "--threads must be >= 1, got " + ops);
    if (blas < 1) throw new CommandLine.ParameterException(spec.commandLine(), "--blas-threads must be >= 1, got " + blas);
    ComputeThreads.apply(ops, blas);
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** The configured command line; tests call it to run subcommands in-process. */
  public static CommandLine commandLine() {
    Main main = new Main();
    CommandLine cl = new CommandLine(main);
    cl.setExecutionStrategy(parsed -> {
      if (CommandLine.printHelpIfRequested(parsed)) return 0;
      main.applyThreads();
      try {
        CudaSupport.check(); // a GPU this build has no kernels for: say so now, not inside a kernel
      } catch (IllegalStateException e) {
        parsed.commandSpec().commandLine().getErr().println("error: " + e.getMessage());
        return 2;
      }
      return new CommandLine.RunLast().execute(parsed);
    });
    cl.setExecutionExceptionHandler(
        (ex, cmd, parsed) -> {
          cmd.getErr().println("error: " + ex.getMessage());
          if (Boolean.getBoolean("m3ae.stacktrace")) ex.printStackTrace(cmd.getErr());
          return 2;
        });
    return cl;
  }

  /** Reads the version Maven filtered into {@code version.properties}. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() throws IOException {
      Properties p = new Properties();
      try (InputStream in = Main.class.getResourceAsStream("version.properties")) {
        if (in != null) p.load(in);
      }
      return new String[] {"m3ae-distill " + p.getProperty("version", "unknown") + " (DL4J 1.0.0-M2.1)"};
    }
  }
}
