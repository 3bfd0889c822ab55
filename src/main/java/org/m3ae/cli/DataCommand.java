package org.m3ae.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import org.m3ae.data.BadRecordPolicy;
import org.m3ae.data.config.PipelineConfig;
import org.m3ae.data.config.PipelineLoader;
import org.m3ae.data.pipeline.BatchOptions;
import org.m3ae.data.pipeline.DataPipeline;
import org.m3ae.data.pipeline.DatasetInspector;
import org.m3ae.data.pipeline.PipelineBench;
import org.m3ae.data.synth.SyntheticGenerator;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code data}: generate the synthetic set, inspect a dataset pipeline, benchmark it. */
@Command(name = "data", mixinStandardHelpOptions = true,
    description = "Dataset pipelines: synthetic generator, inspection and throughput.",
    subcommands = {DataCommand.Synth.class, DataCommand.Inspect.class, DataCommand.Bench.class})
public final class DataCommand implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** Options every pipeline-reading subcommand shares. */
  static class PipelineOptions {
    @Option(names = "--pipeline", required = true, description = "Pipeline definition (data-pipelines/*.yaml).")
    Path pipeline;

    @Option(names = "--root", description = "Dataset folder, overriding the pipeline's root.")
    String root;

    @Option(names = "--on-bad-record", defaultValue = "skip", description = "skip (count and report) or fail (stop at the first). Default ${DEFAULT-VALUE}.")
    String onBadRecord;

    @Option(names = "--report-dir", description = "Also write bad-records.json (and the report) here.")
    Path reportDir;

    DataPipeline open(Integer imageSize) {
      PipelineConfig cfg = PipelineLoader.load(pipeline);
      if (root != null) cfg = cfg.withRoot(root);
      if (imageSize != null) cfg = cfg.withImageSize(imageSize);
      return DataPipeline.open(cfg, BadRecordPolicy.parse(onBadRecord));
    }
  }

  @Command(name = "synth", mixinStandardHelpOptions = true, description = "Write the seeded synthetic dataset (images, captions, VQA, tokenizer).")
  static final class Synth implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(names = "--out", required = true, description = "Output folder.")
    Path out;

    @Option(names = "--n", defaultValue = "400", description = "Number of images (default ${DEFAULT-VALUE}).")
    int n;

    @Option(names = "--seed", defaultValue = "1234", description = "Seed (default ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public Integer call() throws Exception {
      SyntheticGenerator.generate(out, n, seed);
      spec.commandLine().getOut().printf("wrote %d synthetic images with captions and VQA to %s (seed %d)%n", n, out, seed);
      return 0;
    }
  }

  @Command(name = "inspect", mixinStandardHelpOptions = true, description = "Per split: records, images, skipped records by reason, token lengths, answers, image sizes.")
  static final class Inspect implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;
    @CommandLine.Mixin PipelineOptions po = new PipelineOptions();

    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    @Option(names = "--decode", description = "Decode every image fully (finds corrupt files; slower).")
    boolean decode;

    @Override
    public Integer call() throws Exception {
      try (DataPipeline p = po.open(null)) {
        Map<String, Object> doc = DatasetInspector.inspect(p, decode);
        var out = spec.commandLine().getOut();
        ObjectMapper om = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        if (json) out.println(om.writeValueAsString(doc));
        else print(doc, out);
        if (!json) out.println(p.report().summary());
        if (po.reportDir != null) {
          p.report().write(po.reportDir);
          om.writeValue(po.reportDir.resolve("inspect.json").toFile(), doc);
        }
      }
      return 0;
    }

    @SuppressWarnings("unchecked")
    private static void print(Map<String, Object> doc, java.io.PrintWriter out) {
      out.printf("pipeline %s (%s) at %s%n", doc.get("pipeline"), doc.get("task"), doc.get("root"));
      out.printf("tokenizer %s%n", doc.get("tokenizer"));
      if (doc.containsKey("answer_vocabulary"))
        out.printf("answer vocabulary: %s answers (from splits %s, numbered %s)%n", doc.get("answer_vocabulary"), doc.get("answer_vocabulary_splits"), doc.get("answer_order"));
      if (doc.containsKey("classes")) out.printf("classes: %s%n", doc.get("classes"));
      ((Map<String, Map<String, Object>>) doc.get("splits")).forEach((s, m) -> {
        out.printf("%-10s records %6s  images %5s", s, m.get("records"), m.get("images"));
        if (m.containsKey("closed")) out.printf("  closed %s / open %s  answers %s", m.get("closed"), m.get("open"), m.get("distinct_answers"));
        out.println();
        out.printf("           tokens %s  truncated %s  image size %s%n", m.get("tokens"), m.get("truncated"), m.get("image_size"));
      });
      out.printf("images referenced by all splits: %s (image files on disk: %s)%n", doc.get("images_total"), doc.get("image_files_on_disk"));
    }
  }

  @Command(name = "bench", mixinStandardHelpOptions = true, description = "Batches/s and pairs/s of the full pipeline (decode, resize, tokenise, mask).")
  static final class Bench implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;
    @CommandLine.Mixin PipelineOptions po = new PipelineOptions();

    @Option(names = "--split", description = "Split to read (default: the first).")
    String split;

    @Option(names = "--image-size", description = "Override the pipeline's resolution.")
    Integer imageSize;

    @Option(names = "--batch-size", defaultValue = "32", description = "Default ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(names = "--batches", defaultValue = "20", description = "Batches to time (default ${DEFAULT-VALUE}).")
    int batches;

    @Option(names = "--workers", defaultValue = "2", description = "Prefetch threads (default ${DEFAULT-VALUE}).")
    int workers;

    @Option(names = "--objectives", defaultValue = "pretraining", description = "pretraining (MLM+MIM+ITM) or plain (default ${DEFAULT-VALUE}).")
    String objectives;

    @Option(names = "--seed", defaultValue = "0")
    long seed;

    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    @Override
    public Integer call() throws Exception {
      BatchOptions opts = switch (objectives) {
        case "pretraining" -> BatchOptions.pretraining();
        case "plain" -> BatchOptions.plain();
        default -> throw new IllegalArgumentException("--objectives must be pretraining or plain, got '" + objectives + "'");
      };
      try (DataPipeline p = po.open(imageSize)) {
        String s = split != null ? split : p.splits().get(0);
        Map<String, Object> r = PipelineBench.run(p, s, opts, batchSize, batches, workers, seed);
        var out = spec.commandLine().getOut();
        if (json) out.println(new ObjectMapper().writeValueAsString(r));
        else out.printf("%s/%s at %s px, batch %s, %s workers: %s batches, %s pairs in %s s -> %s batches/s, %s pairs/s%n",
            r.get("pipeline"), r.get("split"), r.get("image_size"), r.get("batch_size"), r.get("workers"), r.get("batches"), r.get("pairs"),
            r.get("seconds"), r.get("batches_per_s"), r.get("pairs_per_s"));
        out.println(p.report().summary());
        if (po.reportDir != null) p.report().write(po.reportDir);
      }
      return 0;
    }
  }
}
