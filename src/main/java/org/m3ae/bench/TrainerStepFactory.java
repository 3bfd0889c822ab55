package org.m3ae.bench;

import org.m3ae.train.RunConfig;
import org.m3ae.masking.MaskSource;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.m3ae.data.pipeline.Batch;
import org.m3ae.data.pipeline.BatchKeys;
import org.m3ae.distill.DistillTask;
import org.m3ae.distill.KdMapping;
import org.m3ae.distill.PretrainGraph;
import org.m3ae.distill.Teacher;
import org.m3ae.masking.PatchMask;
import org.m3ae.model.BuildOptions;
import org.m3ae.model.M3aeModel;
import org.m3ae.model.ModelConfig;
import org.m3ae.train.AdamW;
import org.m3ae.train.Executor;
import org.m3ae.train.LrSchedule;
import org.m3ae.train.Trainer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Training steps as the project's trainer runs them ({@link Trainer}'s step on a {@link DistillTask}): the feed
 * (teacher forward for the KD targets and the mask, the student's clean pass for the attention-guided mask with
 * source {@code both}, remasking, dropout masks), {@code calculateGradientsAndOutputs} of the MLM + MIM + ITM
 * (+ hidden and attention KD) losses (one call per pass, or one joint call), global-norm clipping at 1.0 and the AdamW update. One synthetic batch of
 * random pairs is reused every step; weights are random.
 */
public final class TrainerStepFactory implements TrainStepFactory {
  private final boolean perPass;
  private final Executor executor;

  /** @param perPass one gradient call per pass (the trainer's default) or one over all passes ({@code joint}) */
  public TrainerStepFactory(boolean perPass) {
    this(perPass, Executor.PLAN);
  }

  /** @param executor how the trainer runs its gradient calls */
  public TrainerStepFactory(boolean perPass, Executor executor) {
    this.perPass = perPass;
    this.executor = executor;
  }

  @Override
  public String name() {
    return "Trainer step (DistillTask + AdamW, " + (perPass ? "one backward per pass" : "one joint backward") + ", "
        + executor.name().toLowerCase(java.util.Locale.ROOT) + " executor)";
  }

  @Override
  public TrainStep pretrain(ModelConfig model, int batch, long seed) {
    PretrainGraph g = new PretrainGraph(model, null, null, objectives(), true);
    DistillTask task = new DistillTask(g, null, new RunConfig.Mask(MaskSource.RANDOM, 0.95, 0.30, model.mim().maskRatio()), 1000, seed,
        perPass);
    return new Step(task, synthetic(model, batch, seed), batch, executor,
        "pre-training step: MLM+MIM+ITM, dropout, AdamW (DistillTask without teacher)");
  }

  @Override
  public TrainStep distill(ModelConfig student, ModelConfig teacher, int batch, long seed) {
    KdMapping mapping = KdMapping.of(teacher, student, Map.of());
    PretrainGraph g;
    try {
      g = new PretrainGraph(student, teacher, mapping, objectives(), true);
    } catch (RuntimeException e) {
      // Keep the column filled while the trainer's KD graph cannot be built: the stand-in step, labelled as such.
      TrainStep fallback = new GradientStepFactory().distill(student, teacher, batch, seed);
      String why = "PretrainGraph with KD failed (" + e + "); stand-in: " + fallback.description();
      return new TrainStep() {
        @Override
        public void run() {
          fallback.run();
        }

        @Override
        public int batch() {
          return fallback.batch();
        }

        @Override
        public String description() {
          return why;
        }
      };
    }
    Teacher t = Teacher.of(M3aeModel.build(teacher, BuildOptions.defaults()));
    DistillTask task = new DistillTask(g, t, new RunConfig.Mask(MaskSource.BOTH, 0.95, 0.30, student.mim().maskRatio()), 1000, seed,
        perPass);
    return new Step(task, synthetic(student, batch, seed), batch, executor,
        "distillation step: teacher forward, attention-guided mask (both), MLM+MIM+ITM+hidden+attention KD, AdamW");
  }

  private static Map<String, Double> objectives() {
    Map<String, Double> w = new LinkedHashMap<>();
    for (String k : List.of("mlm", "mim", "itm", "hid", "attn")) w.put(k, 1.0);
    return w;
  }

  /** The arrays {@code BatchAssembler} produces for pre-training, filled with seeded random values. */
  static Batch synthetic(ModelConfig c, int b, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    int s = c.vision().imageSize(), len = c.text().maxTextLen(), vocab = c.text().vocabSize(), pad = c.text().padTokenId();
    int n = c.vision().numPatches(), nk = PatchMask.lenKeep(n, c.mim().maskRatio());
    Nd4j.getRandom().setSeed(seed);
    Map<String, INDArray> out = new LinkedHashMap<>();
    out.put(BatchKeys.IMAGE, Nd4j.randn(org.nd4j.linalg.api.buffer.DataType.FLOAT, b, 3, s, s));
    out.put(BatchKeys.ITM_IMAGE, Nd4j.randn(org.nd4j.linalg.api.buffer.DataType.FLOAT, b, 3, s, s));
    int[] ids = new int[b * len], pos = new int[b * len], mlmIds = new int[b * len], labels = new int[b * len], safe = new int[b * len];
    float[] mask = new float[b * len], w = new float[b * len];
    for (int k = 0; k < b; k++) {
      int real = 2 + rng.nextInt(Math.max(1, len - 1));
      for (int t = 0; t < len; t++) {
        int i = k * len + t;
        boolean isReal = t < Math.min(real, len);
        int id;
        do {
          id = rng.nextInt(vocab);
        } while (id == pad);
        ids[i] = isReal ? id : pad;
        mask[i] = isReal ? 1 : 0;
        pos[i] = isReal ? pad + 1 + t : pad;
        boolean sel = isReal && rng.nextDouble() < 0.15;
        mlmIds[i] = sel ? 4 : ids[i];
        labels[i] = sel ? ids[i] : -100;
        safe[i] = sel ? ids[i] : 0;
        w[i] = sel ? 1 : 0;
      }
    }
    out.put(BatchKeys.TEXT_IDS, Nd4j.createFromArray(ids).reshape('c', b, len));
    out.put(BatchKeys.TEXT_MASK, Nd4j.createFromArray(mask).reshape('c', b, len));
    out.put(BatchKeys.TEXT_POSITION_IDS, Nd4j.createFromArray(pos).reshape('c', b, len));
    out.put(BatchKeys.MLM_TEXT_IDS, Nd4j.createFromArray(mlmIds).reshape('c', b, len));
    out.put(BatchKeys.MLM_LABELS, Nd4j.createFromArray(labels).reshape('c', b, len));
    out.put(BatchKeys.MLM_LABEL_IDS, Nd4j.createFromArray(safe).reshape('c', b, len));
    out.put(BatchKeys.MLM_WEIGHTS, Nd4j.createFromArray(w).reshape('c', b, len));
    int[] keep = new int[b * nk], restore = new int[b * n];
    float[] mm = new float[b * n];
    for (int k = 0; k < b; k++) {
      boolean[] masked = new boolean[n];
      int[] perm = new int[n];
      for (int i = 0; i < n; i++) perm[i] = i;
      for (int i = n - 1; i > 0; i--) {
        int j = rng.nextInt(i + 1);
        int t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
      }
      for (int i = nk; i < n; i++) masked[perm[i]] = true;
      PatchMask pm = PatchMask.fromMaskedFlags(masked);
      System.arraycopy(pm.keep(), 0, keep, k * nk, nk);
      System.arraycopy(pm.restore(), 0, restore, k * n, n);
      for (int m : pm.masked()) mm[k * n + m] = 1f;
    }
    out.put(BatchKeys.IMAGE_KEEP_IDS, Nd4j.createFromArray(keep).reshape('c', b, nk));
    out.put(BatchKeys.IMAGE_RESTORE_IDS, Nd4j.createFromArray(restore).reshape('c', b, n));
    out.put(BatchKeys.IMAGE_MIM_MASK, Nd4j.createFromArray(mm).reshape('c', b, n));
    int[] itm = new int[b];
    for (int k = 0; k < b; k++) itm[k] = k % 2;
    out.put(BatchKeys.ITM_LABELS, Nd4j.createFromArray(itm));
    List<String> idList = new java.util.ArrayList<>();
    for (int k = 0; k < b; k++) idList.add("bench-" + k);
    return new Batch(out, idList, idList);
  }

  /**
   * {@link Trainer#step} itself on a stream that repeats one batch: constant learning rate, clipping at 1.0, AdamW
   * with pre-training's ε; no listeners, checkpoints or per-step collection (the bench runs its own).
   */
  static final class Step implements TrainStep {
    private final Trainer trainer;
    private final int size;
    private final String description;
    private int step;

    Step(DistillTask task, Batch batch, int size, Executor executor, String description) {
      this.size = size;
      this.description = description + ", " + executor.name().toLowerCase(java.util.Locale.ROOT) + " executor";
      Trainer.Settings s = new Trainer.Settings(Integer.MAX_VALUE, 1, new LrSchedule(1e-4, 0, 0), Map.of(), 1.0, 0, executor);
      this.trainer = new Trainer(task, () -> batch, s, new AdamW(new AdamW.Settings(0.9, 0.98, 1e-6, 0.01)), List.of());
    }

    @Override
    public void run() {
      trainer.step(step++);
    }

    @Override
    public int batch() {
      return size;
    }

    @Override
    public String description() {
      return description;
    }

    @Override
    public boolean timeOps(org.m3ae.train.OpTimes t) {
      return trainer.timeOps(t);
    }
  }
}
