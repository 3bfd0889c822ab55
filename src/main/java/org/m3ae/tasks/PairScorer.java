package org.m3ae.tasks;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import me.tongfei.progressbar.ProgressBar;
import org.m3ae.model.M3aeGraph;
import org.m3ae.model.M3aeModel;
import org.m3ae.model.Names;
import org.m3ae.model.Pass;
import org.m3ae.model.PassSpec;
import org.m3ae.train.PlanCache;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The retrieval cross-encoder's scores with the towers run once per image and once per text. M3AE's vision and text
 * encoders, and the fusion module's input projections, see only their own modality (SPEC §1.2–1.3); only the
 * co-attention layers, poolers and irtr_head depend on the pair. So the fusion inputs of every image and every text
 * are computed once ({@code images + texts} tower passes instead of {@code images × texts}), and each pair costs the
 * co-attention layers alone ({@link M3aeGraph#addFusionPass}). The scores are those of the task graph's own forward, to float rounding
 * ({@code RetrievalTest}); for a model whose towers dominate (every model here) this is most of the cost of
 * scoring a full matrix.
 *
 * <p>The scoring graph shares the task graph's weight buffers (frozen tables included), so it scores the weights as
 * they are when it is built. Memory: the fusion inputs, (images × Li + texts × Lt) × Df floats (MedPix dev at 96 px:
 * a few MB; 2,000 ROCO test images at 288 px with M3AE's 768-wide fusion: 2 GB).
 */
final class PairScorer {
  static final String ENCODE = "enc";
  static final String FUSE = "fuse";
  static final String SCORE = FUSE + "/irtr.score";

  private final PlanCache plans;
  private final INDArray imageIn; // [images, Li, Df] fusion inputs
  private final INDArray textIn; //  [texts, Lt, Df]
  private final INDArray textMask; // [texts, Lt]
  private final String imageName, textName, maskName;

  private PairScorer(PlanCache plans, INDArray imageIn, INDArray textIn, INDArray textMask, M3aeGraph.FusionOnly f) {
    this.plans = plans;
    this.imageIn = imageIn;
    this.textIn = textIn;
    this.textMask = textMask;
    this.imageName = f.imageIn().name();
    this.textName = f.textIn().name();
    this.maskName = f.textMask().name();
  }

  /** Builds the scoring graph over {@code g}'s weights and runs the towers over every image and text of {@code s}. */
  static PairScorer encode(TaskGraph g, Retrieval.Set s, int chunk) {
    if (g.kind() != TaskKind.RETRIEVAL) throw new IllegalArgumentException("pair scores need a retrieval graph, got " + g.kind());
    M3aeGraph sg = M3aeModel.sharingWeights(g.graph());
    SameDiff sd = sg.sd();
    Pass enc = sg.addPass(PassSpec.inference().withName(ENCODE).withTextLen(g.textLen()));
    M3aeGraph.FusionOnly fus = sg.addFusionPass(FUSE, g.textLen());
    SDVariable w = sd.var("irtr_head.weight", g.sd().getArrForVarName("irtr_head.weight"));
    SDVariable b = sd.var("irtr_head.bias", g.sd().getArrForVarName("irtr_head.bias"));
    sd.identity(SCORE, TaskHeads.apply(new TaskHeads.Irtr(w, b), fus.joint())); // [B, 1]

    PlanCache plans = new PlanCache(sd, "retrieval pair scores");
    DataType dt = sg.dtype();
    int ni = s.numImages(), nt = s.numTexts(), n = Math.max(ni, nt);
    String vOut = enc.fusionImageHidden().get(0).name(), tOut = enc.fusionTextHidden().get(0).name();
    INDArray images = null, texts = null;
    for (int start = 0; start < n; start += chunk) {
      int end = Math.min(n, start + chunk);
      int[] ii = new int[end - start], tt = new int[end - start];
      for (int q = start; q < end; q++) {
        ii[q - start] = Math.min(q, ni - 1); // one pass runs both towers, each on its own rows
        tt[q - start] = Math.min(q, nt - 1);
      }
      Map<String, INDArray> f = new HashMap<>();
      f.put(enc.name(Names.IMAGE), FinetuneTask.rows(s.images(), ii).castTo(dt));
      f.put(enc.name(Names.TEXT_IDS), FinetuneTask.rows(s.ids(), tt).castTo(DataType.INT32));
      f.put(enc.name(Names.TEXT_MASK), FinetuneTask.rows(s.mask(), tt).castTo(dt));
      Map<String, INDArray> o = plans.output(f, List.of(vOut, tOut)); // the plan's arrays: copied below
      images = append(images, o.get(vOut), Math.max(0, Math.min(end, ni) - start));
      texts = append(texts, o.get(tOut), Math.max(0, Math.min(end, nt) - start));
    }
    return new PairScorer(plans, images, texts, s.mask().castTo(dt), fus);
  }

  /** The first {@code rows} rows of {@code chunk} (copied) after {@code acc}. */
  private static INDArray append(INDArray acc, INDArray chunk, int rows) {
    if (rows == 0) return acc;
    INDArray part = chunk.get(NDArrayIndex.interval(0, rows)).dup();
    return acc == null ? part : Nd4j.concat(0, acc, part);
  }

  /** The fusion inputs' first tokens (CLS and &lt;s&gt;), images [images, Df] or texts [texts, Df]. */
  INDArray firstTokens(boolean images) {
    INDArray x = images ? imageIn : textIn;
    return x.get(NDArrayIndex.all(), NDArrayIndex.point(0), NDArrayIndex.all()).dup();
  }

  /** Scores of the listed (image, text) pairs, {@code chunk} pairs per fusion pass. */
  float[] score(int[] img, int[] txt, int chunk, ProgressBar pb) {
    float[] out = new float[img.length];
    for (int start = 0; start < img.length; start += chunk) {
      int end = Math.min(img.length, start + chunk);
      int[] ii = Arrays.copyOfRange(img, start, end), tt = Arrays.copyOfRange(txt, start, end);
      Map<String, INDArray> f = new HashMap<>();
      f.put(imageName, FinetuneTask.rows(imageIn, ii));
      f.put(textName, FinetuneTask.rows(textIn, tt));
      f.put(maskName, FinetuneTask.rows(textMask, tt));
      float[] v = plans.output(f, List.of(SCORE)).get(SCORE).reshape(end - start).toFloatVector();
      System.arraycopy(v, 0, out, start, v.length);
      if (pb != null) pb.stepBy(end - start);
    }
    return out;
  }
}
