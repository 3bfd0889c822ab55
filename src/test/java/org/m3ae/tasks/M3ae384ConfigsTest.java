package org.m3ae.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.m3ae.data.config.PipelineConfig;
import org.m3ae.data.config.PipelineLoader;
import org.m3ae.data.vqa.AnswerNormalizer;
import org.m3ae.data.vqa.AnswerOrder;
import org.m3ae.model.ModelConfig;
import org.m3ae.train.LrGroup;
import org.m3ae.train.NoDecay;
import org.m3ae.train.Optimization;

/**
 * The configs for the released fine-tuned M3AE checkpoints ({@code configs/runs/*-m3ae*.yaml},
 * {@code configs/models/teacher-m3ae-384.yaml}) against the official settings, transcribed below by hand from
 * zhjohnchan/M3AE {@code m3ae/config.py} (the named configs), {@code main.py} (gradient accumulation) and
 * {@code run_scripts/finetune_m3ae.sh} / {@code test_m3ae.sh} (per-GPU batch, GPUs, image size, transforms). Everything
 * is read through the project's loaders; no graph is built.
 */
class M3ae384ConfigsTest {

  /** finetune_m3ae.sh / test_m3ae.sh: num_gpus=1 per_gpu_batchsize=16. */
  static final int PER_GPU_BATCH = 16;
  static final int NUM_GPUS = 1;

  /**
   * One released task. {@code batch}: config.py's batch_size (the logical batch; main.py accumulates
   * batch_size // (per_gpu_batchsize · num_gpus) micro-batches). {@code labels}: vqa_label_size or
   * melinda_label_size[label_column_name]; 0 for retrieval. {@code trainTransform}: clip unless the script adds
   * clip_resizedcrop. {@code imageSize}: the scripts' image_size=.
   */
  record Official(String config, TaskKind kind, String pipeline, int epochs, int batch, double lr, double headMult,
      double multiModalMult, int maxTextLen, int imageSize, String trainTransform, int labels, String valSplit,
      List<String> vocabSplits) {}

  static final List<Official> OFFICIAL = List.of(
      // task_finetune_vqa_vqa_rad: batch_size 64, max_epoch 50, lr 5e-6, head 50, multi_modal 5, max_text_len 32,
      // vqa_label_size 498; finetune_m3ae.sh: image_size=384, no clip_resizedcrop. Official val = test (refused here).
      new Official("configs/runs/vqa-rad-m3ae.yaml", TaskKind.VQA, "data-pipelines/vqa-rad.yaml", 50, 64, 5e-6, 50, 5, 32,
          384, "clip", 498, null, List.of("train", "test")),
      // task_finetune_vqa_slack: batch_size 32, max_epoch 15, head 50, max_text_len 32, vqa_label_size 222; clip_resizedcrop
      new Official("configs/runs/slake-m3ae.yaml", TaskKind.VQA, "data-pipelines/slake.yaml", 15, 32, 5e-6, 50, 5, 32,
          384, "clip_resizedcrop", 222, "validate", List.of("train", "validate", "test")),
      // task_finetune_vqa_medvqa_2019: batch_size 32, max_epoch 10, head 50, max_text_len 32, vqa_label_size 79
      new Official("configs/runs/vqa-med-2019-m3ae.yaml", TaskKind.VQA, "data-pipelines/vqa-med-2019.yaml", 10, 32, 5e-6,
          50, 5, 32, 384, "clip_resizedcrop", 79, "val", List.of("train", "val", "test")),
      // task_finetune_cls_melinda_p_meth_label: batch_size 16, max_epoch 20, head 10, max_text_len 128, image_size 384,
      // melinda_label_size["p_meth_label"] = 7
      new Official("configs/runs/melinda-m3ae.yaml", TaskKind.CLASSIFICATION, "data-pipelines/melinda.yaml", 20, 16, 5e-6,
          10, 5, 128, 384, "clip_resizedcrop", 7, "dev", null),
      // task_finetune_irtr_roco: batch_size 256, max_epoch 10, head 5, max_text_len unset → config()'s 40,
      // draw_false_text 15; finetune_m3ae.sh image_size=384 clip_resizedcrop
      new Official("configs/runs/roco-m3ae.yaml", TaskKind.RETRIEVAL, "data-pipelines/roco.yaml", 10, 256, 5e-6, 5, 5, 40,
          384, "clip_resizedcrop", 0, "validation", null),
      // the same task as test_m3ae.sh scores it: image_size=288
      new Official("configs/runs/roco-m3ae-288.yaml", TaskKind.RETRIEVAL, "data-pipelines/roco.yaml", 10, 256, 5e-6, 5, 5,
          40, 288, "clip_resizedcrop", 0, "validation", null));

  @Test
  void everyReleasedTaskConfigHasTheOfficialSettings() {
    for (Official o : OFFICIAL) {
      String c = o.config();
      TaskConfig tc = TaskConfig.load(Path.of(c));
      assertEquals(o.kind(), tc.kind(), c);
      assertEquals(o.pipeline(), tc.data().pipeline(), c);
      assertEquals("downloaded/pretrained/m3ae.ckpt", tc.init(), c + ": finetune_m3ae.sh load_path");

      TaskConfig.Train t = tc.train();
      Optimization opt = t.optimization();
      assertEquals(o.epochs(), t.epochs(), c + " max_epoch");
      assertEquals(PER_GPU_BATCH, t.batchSize(), c + " per_gpu_batchsize");
      int grad = Math.max(o.batch() / (PER_GPU_BATCH * NUM_GPUS), 1); // main.py's accumulate_grad_batches
      assertEquals(grad, opt.accumulate(), c + " accumulate_grad_batches");
      assertEquals(o.batch(), t.batchSize() * opt.accumulate(), c + " batch_size");
      assertEquals(o.lr(), opt.lr(), 0.0, c + " learning_rate");
      assertEquals(1.0, opt.multiplier(LrGroup.BACKBONE), 0.0, c);
      assertEquals(o.multiModalMult(), opt.multiplier(LrGroup.FUSION), 0.0, c + " lr_multiplier_multi_modal");
      assertEquals(o.headMult(), opt.multiplier(LrGroup.HEADS), 0.0, c + " lr_multiplier_head");
      assertEquals(0.01, opt.weightDecay(), 0.0, c + " weight_decay");
      assertEquals(0.9, opt.beta1(), 0.0, c + " AdamW beta1 (set_schedule)");
      assertEquals(0.98, opt.beta2(), 0.0, c + " AdamW beta2 (set_schedule)");
      assertEquals(0.1, opt.warmup(), 0.0, c + " warmup_steps");
      assertEquals(0.0, opt.clipNorm(), 0.0, c + ": no gradient_clip_val");
      assertEquals(NoDecay.M3AE, opt.noDecay(), c);
      assertEquals(0L, opt.seed(), c + " seed");
      assertTrue(opt.dropout(), c + " drop_rate 0.1");
      assertEquals(false, t.freezeEmbeddings(), c + ": the official run trains the embeddings");
      assertEquals(null, t.maxSteps(), c + ": max_steps = None");
      assertEquals(null, t.validateEvery(), c + ": val_check_interval = 1.0 (once per epoch)");
      if (o.kind() == TaskKind.RETRIEVAL) {
        assertEquals(15, t.negatives(), c + " draw_false_text");
        assertEquals(0, tc.eval().rerankK(), c + ": get_recall_metric scores every pair");
      }
      assertEquals(PER_GPU_BATCH, tc.eval().batchSize(), c + ": test_m3ae.sh per_gpu_batchsize");

      ModelConfig m = ModelConfig.load(Path.of(tc.model()));
      assertEquals(o.imageSize(), m.vision().imageSize(), c + " image_size");

      PipelineConfig pc = PipelineLoader.load(Path.of(tc.data().pipeline()));
      assertEquals(o.maxTextLen(), pc.tokenizer().maxLength(), c + " max_text_len (the task graph's text length)");
      assertTrue(pc.tokenizer().file().endsWith("roberta-base.tokenizer.json"), c + ": text_roberta");
      assertEquals(o.trainTransform(), pc.image().transformFor(tc.data().trainSplit()), c + " train_transform_keys");
      assertEquals("clip", pc.image().transformFor(tc.data().testSplit()), c + " val_transform_keys");
      assertEquals(o.valSplit(), tc.data().valSplit(), c + ": the official val split");
      if (o.valSplit() != null) {
        assertTrue(pc.splits().containsKey(o.valSplit()), c + ": pipeline has " + pc.splits().keySet());
        assertNotEquals(tc.data().testSplit(), o.valSplit(), c);
      }
      if (o.kind() == TaskKind.VQA) {
        // the effective numbering: the task config's override, else the pipeline's
        List<String> splits = tc.data().vocabSplits() != null ? tc.data().vocabSplits() : pc.vqa().vocabSplits();
        AnswerOrder order = tc.data().answerOrder() != null ? tc.data().answerOrder() : pc.vqa().answerOrder();
        assertEquals(o.vocabSplits(), splits, c + ": make_arrow_vqa counts train, val, test");
        assertEquals(AnswerOrder.FIRST_APPEARANCE, order, c + ": make_arrow_vqa's Counter order");
        assertEquals(pc.vqa().vocabSplits(), splits, c + ": the pipeline's own vocabulary, as docs/weights.md asks");
      }
      if (o.kind() == TaskKind.CLASSIFICATION) assertEquals("p_meth_label", pc.fields().get("label"), c + " label_column_name");
    }
  }

  /** teacher-m3ae-384.yaml is teacher-m3ae.yaml with image_size 384 and nothing else (the scripts' clip16 text_roberta). */
  @Test
  void theFineTuningModelDiffersFromThePretrainingModelOnlyInImageSize() {
    ModelConfig pre = ModelConfig.load(Path.of("configs/models/teacher-m3ae.yaml"));
    ModelConfig ft = ModelConfig.load(Path.of("configs/models/teacher-m3ae-384.yaml"));
    assertEquals(288, pre.vision().imageSize());
    assertEquals(384, ft.vision().imageSize());
    assertEquals(16, ft.vision().patchSize(), "clip16");
    assertEquals(24, ft.vision().gridSize());
    assertEquals(577, ft.vision().numTokens(), "24 x 24 patches + CLS");
    ModelConfig.Vision v = pre.vision();
    assertEquals(new ModelConfig.Vision(384, v.patchSize(), v.channels(), v.encoder()), ft.vision());
    assertEquals(new ModelConfig(pre.name() + "-384", ft.vision(), pre.text(), pre.fusion(), pre.mim(), pre.mlm(), pre.itm(),
        pre.init()), ft);
    assertEquals(50265, ft.text().vocabSize(), "text_roberta: vocab_size 50265");
    assertEquals(0.1, ft.fusion().hiddenDropout(), 0.0, "drop_rate");
    assertEquals(6, ft.fusion().layers(), "num_top_layer");
    // every task's text length fits RoBERTa's 514 positions (ids from pad + 1 = 2)
    for (Official o : OFFICIAL) assertTrue(o.maxTextLen() + 2 <= ft.text().maxPositions(), o.config());
  }

  /**
   * The released VQA-RAD head has vqa_label_size = 498 columns. The task data of vqa-rad-m3ae.yaml on the real dataset
   * must give 498 answers, numbered as make_arrow_vqa does: recounted here straight from trainset.json then
   * testset.json (its valset is a copy of test), in file order, after the project's answer normalisation.
   */
  @Test
  void vqaRadAnswerVocabularyHasTheReleasedHeadsColumns(@TempDir Path dir) throws Exception {
    Path root = Path.of("../shared/data/vqa-rad");
    assertTrue(Files.isRegularFile(root.resolve("trainset.json")), "VQA-RAD data missing under " + root.toAbsolutePath());
    TaskConfig tc = TaskConfig.load(Path.of("configs/runs/vqa-rad-m3ae.yaml"));
    ModelConfig model = ModelConfig.load(Path.of(tc.model()));
    Map<String, Integer> expected = new LinkedHashMap<>();
    ObjectMapper om = new ObjectMapper();
    int questions = 0;
    for (String f : List.of("trainset.json", "testset.json")) {
      for (JsonNode q : om.readTree(root.resolve(f).toFile())) {
        expected.putIfAbsent(AnswerNormalizer.normalize(q.get("answer").asText()), expected.size());
        questions++;
      }
    }
    assertEquals(3064 + 451, questions);
    assertEquals(498, expected.size(), "vqa_label_size of task_finetune_vqa_vqa_rad");
    try (TaskData td = TaskData.open(tc, model, dir.resolve("run"))) {
      assertEquals(498, td.outputs(TaskKind.VQA));
      assertEquals(expected, td.data().answerVocabulary().asMap());
      assertEquals("val", td.val(), "carved from train: the official val is test");
      assertEquals(32, td.textLen());
    }
  }
}
