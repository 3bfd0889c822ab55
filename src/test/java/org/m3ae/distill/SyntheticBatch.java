package org.m3ae.distill;

import java.nio.file.Path;
import org.m3ae.data.BadRecordPolicy;
import org.m3ae.data.config.PipelineLoader;
import org.m3ae.data.pipeline.Batch;
import org.m3ae.data.pipeline.BatchOptions;
import org.m3ae.data.pipeline.DataPipeline;
import org.m3ae.train.BatchStream;

/** The first pre-training batch of the embedded synthetic pipeline: 4 pairs, MLM 15 %, random 75 % patch mask. */
final class SyntheticBatch {
  private SyntheticBatch() {}

  static Batch first(int imageSize, long seed) throws Exception {
    try (DataPipeline data = DataPipeline.open(PipelineLoader.load(Path.of("data-pipelines/synthetic.yaml"))
        .withImageSize(imageSize), BadRecordPolicy.SKIP);
        BatchStream stream = new BatchStream(data, "train",
            BatchOptions.pretraining().withMlm(0.15, org.m3ae.masking.MlmMasking.PER_TOKEN), 4, seed, 1)) {
      return stream.next();
    }
  }
}
