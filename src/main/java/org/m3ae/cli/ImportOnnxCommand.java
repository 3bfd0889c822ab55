package org.m3ae.cli;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.m3ae.weights.OnnxGraphImport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code import-onnx}: DL4J's full-graph ONNX importer, with a diagnosis of where it fails. */
@Command(name = "import-onnx", mixinStandardHelpOptions = true,
    description = "Import a whole ONNX graph with DL4J's OnnxFrameworkImporter (trying a Constant-folding pre-pass "
        + "if the plain import fails) and save it; on failure name the failing node and op.")
public final class ImportOnnxCommand implements Callable<Integer> {
  @Option(names = "--onnx", required = true, description = ".onnx file")
  Path onnx;

  @Option(names = "--out", required = true, description = "SameDiff graph to write (.sdz).")
  Path out;

  @Override
  public Integer call() throws Exception {
    Path work = Files.createTempDirectory("import-onnx");
    try {
      OnnxGraphImport.Outcome o = OnnxGraphImport.run(onnx, work);
      if (o.rawError() != null) System.out.println("plain import failed: " + o.rawError());
      if (o.prepassed()) System.out.println("pre-pass: " + o.constantsFolded() + " Constant nodes turned into initializers");
      if (o.graph() != null) {
        o.graph().save(new File(out.toString()), false);
        System.out.printf("imported in %d ms; saved %s%n", o.millis(), out);
        return 0;
      }
      System.out.println("import failed at " + o.failure().describe());
      System.out.printf("(diagnosed in %d ms)%n", o.millis());
      System.out.println("DL4J 1.0.0-M2.1 cannot import this graph. Use the weights path instead: "
          + "`import --config <model.yaml> --weights " + onnx + " --out <model.sdz>` loads its initializers into "
          + "the project's own graph, and `verify-onnx` checks the result against ONNX Runtime.");
      return 1;
    } finally {
      try (var s = Files.list(work)) {
        s.forEach(p -> p.toFile().delete());
      }
      Files.deleteIfExists(work);
    }
  }
}
