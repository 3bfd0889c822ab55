package org.m3ae.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.m3ae.data.BadRecordPolicy;
import org.m3ae.distill.FeatureExtraction;
import org.m3ae.distill.features.TeacherSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code extract-features}: offline teacher features for MMKD-CLIP-style distillation (docs/training.md). */
@Command(name = "extract-features", mixinStandardHelpOptions = true,
    description = "Run each teacher once over a dataset split and write sharded safetensors of per-pair features plus a "
        + "manifest into <out>/<teacher name>/; a run config's feature_kd reads them.")
public final class ExtractFeaturesCommand implements Callable<Integer> {
  @Option(names = "--teacher", required = true, description = "key=value,... (repeatable). BERT-family text encoder: "
      + "name=N,weights=F.onnx|.safetensors,tokenizer=tokenizer.json,preset=minilm|e5|bge (or pooling=mean|cls,normalize=true|false,"
      + "prefix=...), optional max_length,heads,ln_eps. M3AE-family model: name=N,model=config.yaml,weights=F.")
  List<String> teachers;

  @Option(names = "--pipeline", required = true, description = "Data pipeline YAML (data-pipelines/*.yaml).")
  Path pipeline;

  @Option(names = "--split", defaultValue = "train", description = "Split to extract (default ${DEFAULT-VALUE}).")
  String split;

  @Option(names = "--out", required = true, description = "Feature directory; each teacher writes <out>/<name>/.")
  Path out;

  @Option(names = "--root", description = "Override the pipeline's dataset root.")
  String root;

  @Option(names = "--batch-size", defaultValue = "32", description = "Pairs per forward (default ${DEFAULT-VALUE}).")
  int batchSize;

  @Option(names = "--batches-per-shard", defaultValue = "32", description = "Batches per shard file (default ${DEFAULT-VALUE}).")
  int batchesPerShard;

  @Option(names = "--on-bad-record", defaultValue = "skip", description = "skip (count and go on) or fail (default ${DEFAULT-VALUE}).")
  String onBadRecord;

  @Option(names = "--workers", defaultValue = "2", description = "Image decoding threads (default ${DEFAULT-VALUE}).")
  int workers;

  @Option(names = "--base-config", defaultValue = InferredConfig.DEFAULT_BASE,
      description = "Around an inferred BERT-family encoder (only its text encoder is built; default ${DEFAULT-VALUE}).")
  Path baseConfig;

  @Option(names = "--resume", description = "Continue each teacher after its last complete shard; complete teachers are skipped.")
  boolean resume;

  @Option(names = "--max-shards", description = "Stop each teacher after this many new shards (then --resume).")
  Integer maxShards;

  @Override
  public Integer call() {
    List<TeacherSpec> specs = teachers.stream().map(TeacherSpec::parse).toList();
    var s = new FeatureExtraction.Settings(pipeline, root, split, out, batchSize, batchesPerShard, BadRecordPolicy.parse(onBadRecord),
        resume, workers, baseConfig, maxShards);
    for (var r : FeatureExtraction.run(specs, s, System.out)) {
      System.out.printf("%s: %d records, %d shards (%d new), bad records %s, %.1f s → %s%n", r.teacher(), r.records(), r.shards(),
          r.newShards(), r.badRecords(), r.seconds(), r.dir());
    }
    return 0;
  }
}
