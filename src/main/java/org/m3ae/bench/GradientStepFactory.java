package org.m3ae.bench;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.m3ae.model.BuildOptions;
import org.m3ae.model.M3aeGraph;
import org.m3ae.model.M3aeModel;
import org.m3ae.model.ModelConfig;
import org.m3ae.model.Names;
import org.m3ae.model.Pass;
import org.m3ae.model.PassSpec;
import org.m3ae.model.PassSpec.Head;
import org.m3ae.model.RandomInputs;
import org.m3ae.train.Losses;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@code bench --train-step grad}: the gradient calls alone, without the trainer. One graph with the passes
 * {@code mlm}, {@code mim}, {@code itm} sharing every weight, the three losses from {@link Losses} summed, and one
 * {@code sd.calculateGradients} per step through SameDiff's session — a pre-training step minus the trainer's feed,
 * plans, clipping and optimizer update, to tell the executor's and the update's share of a step from the graph's. The
 * distillation variant adds the teacher's forward of the same three passes (its hidden states and attention maps, the
 * KD targets) before the student's step; the KD terms and the update are not in it.
 */
public final class GradientStepFactory implements TrainStepFactory {
  @Override
  public String name() {
    return "calculateGradients (MLM+MIM+ITM, no update)";
  }

  @Override
  public TrainStep pretrain(ModelConfig model, int batch, long seed) {
    return new PretrainGrad(model, batch, seed);
  }

  @Override
  public TrainStep distill(ModelConfig student, ModelConfig teacher, int batch, long seed) {
    PretrainGrad s = new PretrainGrad(student, batch, seed);
    TeacherForward t = new TeacherForward(teacher, batch, seed);
    return new TrainStep() {
      @Override
      public void run() {
        t.run();
        s.run();
      }

      @Override
      public int batch() {
        return batch;
      }

      @Override
      public String description() {
        return "teacher forward (3 passes) + student forward+backward (3 passes), no KD terms, no update";
      }
    };
  }

  /** The three pre-training passes of a model in one graph. */
  static M3aeGraph threePassGraph(ModelConfig cfg, boolean training) {
    M3aeGraph g = M3aeModel.empty(cfg, BuildOptions.defaults());
    PassSpec base = PassSpec.inference().withTraining(training);
    g.addPass(base.withName("mlm").withHeads(Head.MLM));
    g.addPass(base.withName("mim").withHeads(Head.MIM));
    g.addPass(base.withName("itm").withHeads(Head.ITM));
    return g;
  }

  static Map<String, INDArray> inputs(M3aeGraph g, int batch, long seed) {
    Map<String, INDArray> in = new HashMap<>();
    long s = seed;
    for (Pass p : g.passes().values()) in.putAll(RandomInputs.forPass(g, p, batch, s++));
    return in;
  }

  /** Forward of the teacher's three passes, fetching what distillation reads (hidden states, attention maps). */
  static final class TeacherForward {
    final M3aeGraph g;
    final Map<String, INDArray> in;
    final List<String> outputs = new ArrayList<>();

    TeacherForward(ModelConfig cfg, int batch, long seed) {
      g = threePassGraph(cfg, false);
      in = inputs(g, batch, seed);
      for (Pass p : g.passes().values()) {
        outputs.add(p.fusionTextHidden().get(p.fusionTextHidden().size() - 1).name());
        outputs.add(p.fusionImageHidden().get(p.fusionImageHidden().size() - 1).name());
        if (!p.fusionImageCrossAttn().isEmpty()) outputs.add(p.fusionImageCrossAttn().get(p.fusionImageCrossAttn().size() - 1).name());
      }
    }

    void run() {
      g.sd().output(in, outputs);
    }
  }

  /** MLM + MIM + ITM losses summed, gradients of every trainable weight. */
  static final class PretrainGrad implements TrainStep {
    final M3aeGraph g;
    final Map<String, INDArray> in;
    final List<String> wrt = new ArrayList<>();
    final int batch;

    PretrainGrad(ModelConfig cfg, int batch, long seed) {
      this.batch = batch;
      g = threePassGraph(cfg, true);
      SameDiff sd = g.sd();
      DataType dt = g.dtype();
      in = inputs(g, batch, seed);
      SplittableRandom rng = new SplittableRandom(seed);
      int lt = cfg.text().maxTextLen();
      int v = cfg.text().vocabSize();
      var vis = cfg.vision();

      Pass mlm = g.pass("mlm");
      SDVariable mlmLabels = sd.placeHolder("bench/mlm_labels", DataType.INT32, -1, lt);
      SDVariable mlmWeights = sd.placeHolder("bench/mlm_weights", dt, -1, lt);
      SDVariable lMlm = Losses.crossEntropy(sd, mlm.mlmLogits(), mlmLabels, mlmWeights, v, 3);
      int[][] labels = new int[batch][lt];
      double[][] w = new double[batch][lt];
      for (int b = 0; b < batch; b++) {
        for (int t = 0; t < lt; t++) {
          labels[b][t] = rng.nextInt(v);
          w[b][t] = rng.nextDouble() < 0.15 ? 1 : 0;
        }
        w[b][0] = 1;
      }
      in.put("bench/mlm_labels", Nd4j.createFromArray(labels));
      in.put("bench/mlm_weights", Nd4j.createFromArray(w).castTo(dt));

      Pass mim = g.pass("mim");
      SDVariable target = Losses.mimTarget(sd, sd.getVariable(mim.name(Names.IMAGE)), vis.channels(), vis.gridSize(),
          vis.patchSize(), cfg.mim().normPixLoss());
      SDVariable masked = sd.placeHolder("bench/mim_masked", dt, -1, vis.numPatches());
      SDVariable lMim = Losses.mimLoss(sd, mim.mimPred(), target, masked);
      INDArray keep = in.get(mim.name(Names.IMAGE_KEEP_IDS));
      double[][] mk = new double[batch][vis.numPatches()];
      for (int b = 0; b < batch; b++) {
        java.util.Arrays.fill(mk[b], 1.0);
        for (int k = 0; k < keep.size(1); k++) mk[b][keep.getInt(b, k)] = 0;
      }
      in.put("bench/mim_masked", Nd4j.createFromArray(mk).castTo(dt));

      Pass itm = g.pass("itm");
      SDVariable itmLabels = sd.placeHolder("bench/itm_labels", DataType.INT32, -1);
      SDVariable itmWeights = sd.placeHolder("bench/itm_weights", dt, -1);
      SDVariable lItm = Losses.crossEntropy(sd, itm.itmLogits(), itmLabels, itmWeights, cfg.itm().classes(), 2);
      int[] il = new int[batch];
      for (int b = 0; b < batch; b++) il[b] = b % 2;
      in.put("bench/itm_labels", Nd4j.createFromArray(il));
      in.put("bench/itm_weights", Nd4j.ones(dt, batch));

      SDVariable loss = lMlm.add(lMim).add(lItm).rename("bench/loss");
      sd.setLossVariables(loss);
      for (SDVariable t : g.trainable()) wrt.add(t.name());
    }

    @Override
    public void run() {
      g.sd().calculateGradients(in, wrt);
    }

    @Override
    public int batch() {
      return batch;
    }

    @Override
    public String description() {
      return "MLM+MIM+ITM forward+backward (calculateGradients), no update";
    }
  }
}
