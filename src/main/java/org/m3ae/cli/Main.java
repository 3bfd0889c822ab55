package org.m3ae.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
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
      InitStudentCommand.class,
      UiCommand.class,
      FinetuneCommand.class,
      EvaluateCommand.class,
      PredictCommand.class,
      VisualizeCommand.class,
      BenchCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Main implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /** Whether the user chose a thread count (commands with a better default for tiny models respect it). */
  static volatile boolean threadsGiven;

  static void applyThreads(int n) {
    org.nd4j.linalg.factory.Nd4j.getEnvironment().setMaxThreads(n);
    org.nd4j.linalg.factory.Nd4j.getEnvironment().setMaxMasterThreads(n);
    org.nd4j.linalg.factory.Nd4j.factory().blas().setMaxThreads(n);
  }

  /**
   * Caps ND4J's OpenMP and BLAS threads. SameDiff runs thousands of small ops per training step; on a busy machine
   * two OpenMP threads spin-waiting on each other made a tiny model's step 5× slower than one thread (docs/dl4j.md).
   */
  @CommandLine.Option(names = "--threads", scope = CommandLine.ScopeType.INHERIT,
      description = "ND4J compute threads (default: ND4J's choice, one per core).")
  void setThreads(int n) {
    threadsGiven = true;
    if (n < 1) throw new CommandLine.ParameterException(spec.commandLine(), "--threads must be >= 1, got " + n);
    applyThreads(n);
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
    CommandLine cl = new CommandLine(new Main());
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
