package org.m3ae.cli;

import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.m3ae.model.M3aeGraph;
import org.m3ae.model.ModelConfig;
import org.m3ae.model.Stack;
import org.m3ae.weights.LayerMapping;
import org.m3ae.weights.SameDiffSource;
import org.m3ae.weights.TensorSource;
import org.m3ae.weights.StudentInit;
import org.m3ae.weights.WeightImport;
import org.nd4j.autodiff.samediff.SameDiff;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code init-student}: a student graph initialised from its teacher's saved graph. */
@Command(name = "init-student", mixinStandardHelpOptions = true,
    description = "Initialise a student from a teacher graph: embeddings, projections, poolers and heads copied; "
        + "encoder layers by a uniform layer mapping (default EfficientVLM, last layer of each block). Prints the "
        + "mapping it used.")
public final class InitStudentCommand implements Callable<Integer> {
  @Option(names = "--teacher", required = true, description = "Teacher: a graph from `import` (.sdz or graph-layout "
      + ".safetensors), or a checkpoint such as the official m3ae.ckpt (.ckpt/.pt/.pth/.bin/.safetensors), which is "
      + "imported into --teacher-config first.")
  Path teacher;

  @Option(names = "--teacher-config", defaultValue = "configs/models/teacher-m3ae.yaml",
      description = "Teacher model config, read only when --teacher is a checkpoint rather than a graph (default ${DEFAULT-VALUE}).")
  Path teacherConfig;

  @Option(names = "--config", required = true, description = "Student model config YAML.")
  Path config;

  @Option(names = "--out", required = true, description = "Student graph to write (.sdz).")
  Path out;

  @Option(names = "--mapping", defaultValue = "last-of-block",
      description = "last-of-block (EfficientVLM: ceil((i+1)T/S)-1) or first-of-block (floor(iT/S)); default ${DEFAULT-VALUE}.")
  String mapping;

  @Option(names = "--map", description = "Explicit teacher layers for one stack, e.g. vision=1,3,5,7,9,10 "
      + "(stacks: vision, text, fusion_text, fusion_image, mim_decoder). Repeatable.")
  List<String> explicit;

  @Option(names = "--verbose", description = "List every copied variable.")
  boolean verbose;

  /** A teacher .sdz; any other weights file through {@link WeightImport#graphLayoutSource}. */
  static TensorSource openTeacher(Path p, Path teacherConfig) {
    if (p.getFileName().toString().endsWith(".sdz")) {
      return new SameDiffSource(SameDiff.load(p.toFile(), false), p.toString());
    }
    return WeightImport.graphLayoutSource(p, () -> ModelConfig.load(teacherConfig), System.out);
  }

  @Override
  public Integer call() {
    long t0 = System.nanoTime();
    TensorSource t = openTeacher(teacher, teacherConfig);
    ModelConfig cfg = ModelConfig.load(config);
    Map<Stack, Integer> tl = StudentInit.layers(t);
    Map<Stack, int[]> overrides = new EnumMap<>(Stack.class);
    if (explicit != null) {
      for (String e : explicit) {
        int eq = e.indexOf('=');
        if (eq < 0) throw new IllegalArgumentException("--map wants stack=i,j,...: " + e);
        Stack s = Stack.valueOf(e.substring(0, eq).trim().toUpperCase(Locale.ROOT));
        overrides.put(s, LayerMapping.explicit(e.substring(eq + 1), tl.get(s), s.layers(cfg)));
      }
    }
    Map<Stack, int[]> m = StudentInit.mapping(tl, cfg, LayerMapping.parse(mapping), overrides);
    System.out.print("layer mapping (" + mapping + (overrides.isEmpty() ? "" : ", with explicit overrides") + "):\n"
        + StudentInit.describe(m, tl));
    M3aeGraph g = WeightImport.withPretrainingHeads(cfg);
    StudentInit.Result r = StudentInit.run(t, g, m);
    if (verbose) {
      r.report().print(System.out, true);
    } else {
      // teacher layers outside the mapping are unused by design: counted, not listed
      System.out.println(r.report().summary() + " (unused = teacher variables not selected; --verbose lists them)");
      r.report().missing().forEach((k, why) -> System.out.println("  missing " + k + " (" + why + ")"));
    }
    WeightImport.save(g, out);
    System.out.printf("saved %s in %d ms (peak_rss_mb=%s)%n", out, (System.nanoTime() - t0) / 1_000_000, PeakMemory.rssMb());
    return 0;
  }
}
