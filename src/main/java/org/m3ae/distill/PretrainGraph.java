package org.m3ae.distill;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.m3ae.data.pipeline.Batch;
import org.m3ae.data.pipeline.BatchKeys;
import org.m3ae.model.BuildOptions;
import org.m3ae.model.M3aeGraph;
import org.m3ae.model.M3aeModel;
import org.m3ae.model.ModelConfig;
import org.m3ae.model.Names;
import org.m3ae.model.Pass;
import org.m3ae.model.PassSpec;
import org.m3ae.model.PassSpec.Head;
import org.m3ae.model.Stack;
import org.m3ae.model.VocabSelect;
import org.m3ae.train.GradientGraph;
import org.m3ae.train.Losses;
import org.m3ae.train.FeatureKind;
import org.m3ae.train.LossTerm;
import org.m3ae.train.RunConfig;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The graph one pre-training step differentiates (paper §3, SPEC §2.1). Four passes share the model's weights:
 * <ul>
 *   <li>{@code ""} — the unmasked pair, inference only: its attention maps feed the attention-guided mask;
 *   <li>{@code mlm} — masked text + full image → L_mlm;
 *   <li>{@code mim} — full text + visible patches → L_mim;
 *   <li>{@code itm} — full text + image (half swapped) → L_itm, and the KD terms against the teacher;
 *   <li>{@code feat} — with offline teacher features only: the unmasked pair again, → MMKD-CLIP's L_fd and L_icl
 *       (SPEC §10). Its student sees the clean image and text the teachers saw when their features were extracted,
 *       on every row (the ITM pass swaps half the images, the MLM and MIM passes corrupt one modality).
 * </ul>
 * KD is applied on the ITM pass's matched rows: there the student sees exactly the unmasked pair the teacher saw,
 * so one teacher forward per step serves both the KD targets and the attention-guided mask. The teacher's tensors
 * arrive as placeholders ({@code kd/<name>}): the teacher is a separate, frozen graph, so none of its activations
 * are kept for backprop (a single graph with stop-gradient would hold them all through the student's backward).
 */
public final class PretrainGraph {
  public static final String CLEAN = "";
  public static final String MLM = "mlm";
  public static final String MIM = "mim";
  public static final String ITM = "itm";
  public static final String FEAT = "feat";
  /** ln(1/0.07): the initial ICL logit scale of MMKD-CLIP's and CLIP-KD's {@code cross_logit_scale} (SPEC §10). */
  public static final double ICL_SCALE_INIT = Math.log(1 / 0.07);

  /** Graph variable of each logged loss term, by metric key. */
  public static final Map<String, String> LOSSES = Map.of(
      "loss_mlm", "loss/mlm", "loss_mim", "loss/mim", "loss_itm", "loss/itm",
      "loss_hid", "loss/hid", "loss_attn", "loss/attn", "loss_mlm_kd", "loss/mlm_kd", "loss_itm_kd", "loss/itm_kd",
      "loss_total", "loss/total");

  public static final String MLM_LABEL_IDS = "mlm/labels";
  public static final String MLM_WEIGHTS = "mlm/label_weights";
  /** With sparse text: label ids [M] and weights [M] of the M selected positions, row-aligned with {@link Names#MLM_SELECT}. */
  public static final String MLM_SELECTED_LABEL_IDS = "mlm/selected_labels";
  public static final String MLM_SELECTED_WEIGHTS = "mlm/selected_label_weights";
  public static final String MIM_MASK = "mim/masked";
  public static final String ITM_LABELS = "itm/labels";
  public static final String KD_ROWS = "kd/rows";

  private final M3aeGraph graph;
  private final ModelConfig cfg;
  private final ModelConfig teacherCfg;
  private final KdMapping mapping;
  private final Map<String, String> kdTargets = new LinkedHashMap<>(); // placeholder → teacher output name
  private final List<String> lossOrder = new ArrayList<>();
  private final Map<String, Double> weights;
  private List<GradientGraph> perPass;
  private List<String> activePasses;
  private List<String> lossKeys;
  private final boolean sparseText;
  private final FeatureKdSpec features;
  private final KdSpec kd;

  /**
   * @param teacherCfg null for pre-training without a teacher (KD off)
   * @param weights objective weights by term: mlm, mim, itm, hid, attn
   */
  public PretrainGraph(ModelConfig cfg, ModelConfig teacherCfg, KdMapping mapping, Map<String, Double> weights,
      boolean dropout) {
    this(cfg, teacherCfg, mapping, weights, dropout, true);
  }

  /**
   * @param sparseText the per-pass graphs look words up through the step's own vocabulary ({@link VocabSelect});
   *     false: one-hot products with the whole table, as this graph's own training passes always do (the reference
   *     {@code VocabSelectTest} compares against)
   */
  public PretrainGraph(ModelConfig cfg, ModelConfig teacherCfg, KdMapping mapping, Map<String, Double> weights,
      boolean dropout, boolean sparseText) {
    this(cfg, teacherCfg, mapping, weights, dropout, sparseText, DataType.FLOAT);
  }

  /** @param dtype of every weight, placeholder and loss (FLOAT to train; DOUBLE for finite-difference checks) */
  public PretrainGraph(ModelConfig cfg, ModelConfig teacherCfg, KdMapping mapping, Map<String, Double> weights,
      boolean dropout, boolean sparseText, DataType dtype) {
    this(cfg, teacherCfg, mapping, weights, dropout, sparseText, dtype, null);
  }

  /**
   * @param features MMKD-CLIP's offline teachers (null: none); their terms are weighted by {@code weights} "fd" and
   *     "icl", which must then be given
   */
  public PretrainGraph(ModelConfig cfg, ModelConfig teacherCfg, KdMapping mapping, Map<String, Double> weights,
      boolean dropout, boolean sparseText, DataType dtype, FeatureKdSpec features) {
    this(cfg, teacherCfg, mapping, weights, dropout, sparseText, dtype, features, KdSpec.LITERAL);
  }

  /**
   * @param kd the form of the KD terms (run config {@code kd:}); {@link KdSpec#LITERAL} is the paper's. The logit KD
   *     terms are built when {@code weights} gives "mlm_kd" / "itm_kd" a non-zero weight (absent: 0)
   */
  public PretrainGraph(ModelConfig cfg, ModelConfig teacherCfg, KdMapping mapping, Map<String, Double> weights,
      boolean dropout, boolean sparseText, DataType dtype, FeatureKdSpec features, KdSpec kd) {
    this.sparseText = sparseText;
    this.kd = kd;
    this.features = features;
    if (features != null) {
      for (LossTerm t : List.of(LossTerm.FD, LossTerm.ICL)) {
        if (weights.get(t.key()) == null) throw new IllegalArgumentException("feature KD needs the weight of '" + t.key() + "' in " + weights);
      }
    }
    if (!dropout) cfg = cfg.withoutDropout();
    this.cfg = cfg;
    this.teacherCfg = teacherCfg;
    this.mapping = mapping;
    if (teacherCfg != null) checkCompatible(cfg, teacherCfg);
    this.weights = weights;
    if (teacherCfg != null && raw(LossTerm.ITM_KD) != 0 && cfg.itm().classes() != teacherCfg.itm().classes()) {
      throw new IllegalArgumentException("ITM logit KD: student and teacher ITM heads differ (" + cfg.itm().classes() + " vs "
          + teacherCfg.itm().classes() + " classes)");
    }
    graph = M3aeModel.empty(cfg, BuildOptions.defaults().withDtype(dtype));
    graph.addPass(PassSpec.inference());
    Pass mlm = graph.addPass(training(MLM, Head.MLM));
    Pass mim = graph.addPass(training(MIM, Head.MIM));
    Pass itm = graph.addPass(training(ITM, Head.ITM));
    Pass feat = features == null ? null : graph.addPass(PassSpec.inference().withName(FEAT).withTraining(true));
    lossOrder.addAll(addObjectives(graph, mlm, mim, itm, feat));
  }

  private static PassSpec training(String name, Head head) {
    return PassSpec.inference().withName(name).withHeads(head).withTraining(true);
  }

  /**
   * The loss terms of the given passes (null = absent) in {@code g}, their weighted sum as {@code loss/total}, set as
   * the graph's loss; returns the metric keys in logging order.
   */
  private List<String> addObjectives(M3aeGraph g, Pass mlm, Pass mim, Pass itm, Pass feat) {
    SameDiff sd = g.sd();
    DataType dt = g.dtype();
    var v = cfg.vision();
    List<String> keys = new ArrayList<>();
    SDVariable total = null;
    if (mlm != null) {
      boolean selected = mlm.spec().sparseText();
      SDVariable labels = selected ? sd.placeHolder(MLM_SELECTED_LABEL_IDS, DataType.INT32, -1)
          : sd.placeHolder(MLM_LABEL_IDS, DataType.INT32, -1, mlm.textLen());
      SDVariable labelW = selected ? sd.placeHolder(MLM_SELECTED_WEIGHTS, dt, -1)
          : sd.placeHolder(MLM_WEIGHTS, dt, -1, mlm.textLen());
      SDVariable l = Losses.crossEntropy(sd, mlm.mlmLogits(), labels, labelW, cfg.text().vocabSize(), selected ? 2 : 3)
          .rename("loss/mlm");
      total = plus(total, l.mul(w(LossTerm.MLM)));
      keys.add("loss_mlm");
      if (teacherCfg != null && raw(LossTerm.MLM_KD) != 0) {
        SDVariable lKd = mlmLogitKd(sd, mlm, labelW, selected).rename("loss/mlm_kd");
        total = total.add(lKd.mul(w(LossTerm.MLM_KD)));
        keys.add("loss_mlm_kd");
      }
    }
    if (mim != null) {
      SDVariable masked = sd.placeHolder(MIM_MASK, dt, -1, v.numPatches());
      SDVariable target = Losses.mimTarget(sd, sd.getVariable(mim.name(Names.IMAGE)), v.channels(), v.gridSize(),
          v.patchSize(), cfg.mim().normPixLoss());
      SDVariable l = Losses.mimLoss(sd, mim.mimPred(), target, masked).rename("loss/mim");
      total = plus(total, l.mul(w(LossTerm.MIM)));
      keys.add("loss_mim");
    }
    if (itm != null) {
      SDVariable itmLabels = sd.placeHolder(ITM_LABELS, DataType.INT32, -1);
      SDVariable ones = sd.onesLike(itmLabels).castTo(dt);
      SDVariable l = Losses.crossEntropy(sd, itm.itmLogits(), itmLabels, ones, cfg.itm().classes(), 2).rename("loss/itm");
      total = plus(total, l.mul(w(LossTerm.ITM)));
      keys.add("loss_itm");
      if (teacherCfg != null) {
        SDVariable rows = sd.placeHolder(KD_ROWS, dt, -1);
        SDVariable lHid = hiddenKd(g, itm, rows).rename("loss/hid");
        SDVariable lAttn = attentionKd(sd, itm, rows).rename("loss/attn");
        total = total.add(lHid.mul(w(LossTerm.HID))).add(lAttn.mul(w(LossTerm.ATTN)));
        keys.addAll(List.of("loss_hid", "loss_attn"));
        if (raw(LossTerm.ITM_KD) != 0) {
          // every ITM pair, swapped ones included: the teacher's ITM pass sees the same (half-swapped) input
          SDVariable tLogits = kdPlaceholder(sd, Names.qualified(ITM, Names.ITM_LOGITS), cfg.itm().classes()); // [B, C]
          SDVariable lKd = KdLosses.klAtTemperature(sd, itm.itmLogits(), tLogits, kd.temperature(), 2).mean()
              .rename("loss/itm_kd");
          total = total.add(lKd.mul(w(LossTerm.ITM_KD)));
          keys.add("loss_itm_kd");
        }
      }
    }
    if (feat != null) total = featureTerms(g, feat, total, keys);
    total.rename("loss/total");
    keys.add("loss_total");
    sd.setLossVariables("loss/total");
    return keys;
  }

  private static SDVariable plus(SDVariable a, SDVariable b) {
    return a == null ? b : a.add(b);
  }

  /** The weight the objective gives term t: its objective weight, times (1 − α) or α under {@code kd.alpha}. */
  private double w(LossTerm t) {
    double x = raw(t);
    if (kd.alpha() == null || teacherCfg == null) return x;
    return x * (t.distillation() ? kd.alpha() : 1 - kd.alpha());
  }

  /** The objective weight of term t as given; the logit KD terms default to 0 (off). */
  private double raw(LossTerm t) {
    Double x = weights.get(t.key());
    if (x != null) return x;
    if (t == LossTerm.MLM_KD || t == LossTerm.ITM_KD) return 0;
    throw new IllegalArgumentException("no weight for '" + t.key() + "' in " + weights);
  }

  /**
   * EfficientVLM's MLM logit KD: KL(softmax(z_T/T) ‖ softmax(z_S/T)) at each masked position, averaged over them with
   * the MLM label weights. The teacher's logits come from its own pass on the same masked text and full image
   * ({@link #teacherPasses}); with selected positions they are picked by the pass's one-hot selection, as the
   * student's features are.
   *
   * @param labelW the MLM weights: [B, Lt], or [M] with selected positions
   */
  private SDVariable mlmLogitKd(SameDiff sd, Pass p, SDVariable labelW, boolean selected) {
    int v = cfg.text().vocabSize();
    SDVariable t = kdPlaceholder(sd, Names.qualified(MLM, Names.MLM_LOGITS), p.textLen(), v); //   [B, Lt, V]
    if (selected) {
      SDVariable select = sd.getVariable(p.name(Names.MLM_SELECT)); //                 [M, B·Lt]
      t = select.mmul(sd.reshape(t, -1, v)); //                                          [M, V]
    }
    SDVariable kl = KdLosses.klAtTemperature(sd, p.mlmLogits(), t, kd.temperature(), selected ? 2 : 3); // [B, Lt] or [M]
    return Losses.weightedMean(sd, kl, labelW);
  }

  /**
   * The teacher passes besides its clean one that the logit KD terms read: {@code mlm} (masked text, full image, MLM
   * head) and {@code itm} (the ITM pass's half-swapped pairs, ITM head). Their logits reach this graph as
   * {@code kd/mlm/mlm.logits} and {@code kd/itm/itm.logits}. Empty without logit KD.
   */
  public List<PassSpec> teacherPasses() {
    List<PassSpec> out = new ArrayList<>();
    if (teacherCfg == null) return out;
    if (raw(LossTerm.MLM_KD) != 0) out.add(PassSpec.inference().withName(MLM).withHeads(Head.MLM));
    if (raw(LossTerm.ITM_KD) != 0) out.add(PassSpec.inference().withName(ITM).withHeads(Head.ITM));
    return out;
  }

  /** The feed of teacher pass {@code pass} ({@link #teacherPasses}) for a batch. */
  public static Map<String, INDArray> teacherPassFeed(String pass, Batch b) {
    Map<String, INDArray> f = new HashMap<>();
    f.put(Names.qualified(pass, Names.TEXT_MASK), b.get(BatchKeys.TEXT_MASK));
    switch (pass) {
      case MLM -> {
        f.put(Names.qualified(pass, Names.IMAGE), b.get(BatchKeys.IMAGE));
        f.put(Names.qualified(pass, Names.TEXT_IDS), b.get(BatchKeys.MLM_TEXT_IDS));
      }
      case ITM -> {
        f.put(Names.qualified(pass, Names.IMAGE), b.get(BatchKeys.ITM_IMAGE));
        f.put(Names.qualified(pass, Names.TEXT_IDS), b.get(BatchKeys.TEXT_IDS));
      }
      default -> throw new IllegalArgumentException("no teacher pass '" + pass + "'");
    }
    return f;
  }

  /** The form of the KD terms. */
  public KdSpec kd() {
    return kd;
  }

  /**
   * The objective split by pass: one graph each for MLM, MIM and ITM (+ KD), those of them that weigh, built like this graph's passes and
   * holding the very same weight arrays, so an update of {@link #sd()}'s weights is an update of theirs. Differentiated
   * one after the other, their terms and gradients add up to those of {@code loss/total} here (PretrainGraphSplitTest).
   * A step then holds one pass's activations at a time, given that each call's arrays are released when it returns
   * ({@code GradientCall}: SameDiff 1.0.0-M2.1 would keep them; docs/performance.md changes 7–8). With
   * {@code sparseText} their word lookups go through {@link VocabSelect}: pass their gradients through
   * {@link #tableGradients} before use.
   */
  public synchronized List<GradientGraph> perPassGraphs() {
    if (perPass != null) return perPass;
    List<GradientGraph> out = new ArrayList<>();
    for (String name : activePasses()) {
      M3aeGraph g = M3aeModel.sharingWeights(graph);
      Pass p = g.addPass(graph.pass(name).spec().withSparseText(sparseText));
      List<String> keys = addObjectives(g, name.equals(MLM) ? p : null, name.equals(MIM) ? p : null,
          name.equals(ITM) ? p : null, name.equals(FEAT) ? p : null);
      List<String> vars = new ArrayList<>();
      for (SDVariable w : g.trainable()) vars.add(w.name());
      out.add(new GradientGraph(g.sd(), keys, vars));
    }
    perPass = List.copyOf(out);
    return perPass;
  }

  /**
   * MMKD-CLIP's terms on the clean pass (SPEC §10, {@code KDClipLoss}), per teacher t with features T_k (unit-normalised
   * here: MMKD-CLIP saves them normalised; an M3AE teacher's pooled features are not) and the student's feature S_k
   * of the same kind through the teacher's own learned projection P_{t,k} (CLIP-KD's {@code visual_proj}/
   * {@code text_proj}: student width → teacher width, then normalised, so that it can meet a unit-norm target):
   * <ul>
   *   <li>FD_t = Σ_k MSE(norm(P_{t,k} S_k), norm(T_k)) over the teacher's kinds (text, image, joint);
   *   <li>ICL_t = mean over the available directions of CE(s_t · Ŝ_img · T̂_txtᵀ, arange) and, where the teacher also
   *       has images, CE(s_t · Ŝ_txt · T̂_imgᵀ, arange); s_t is learned, starts at ln(1/0.07) and multiplies directly.
   * </ul>
   * L_fd = Σ_t w_t·FD_t and L_icl = Σ_t w_t·ICL_t enter the total with the objective weights fd and icl.
   */
  private SDVariable featureTerms(M3aeGraph g, Pass p, SDVariable total, List<String> keys) {
    SameDiff sd = g.sd();
    // A term weighted 0 is not built, nor the student features only it reads: an ICL-only run against a text-only
    // teacher (LiT-style, image tower against frozen caption features) then never runs the text tower, which at a
    // pretrained 12 × 384 size is most of a step's cost.
    boolean fdOn = w(LossTerm.FD) != 0, iclOn = w(LossTerm.ICL) != 0;
    SDVariable fdSum = null, iclSum = null;
    List<String> perTeacher = new ArrayList<>();
    for (FeatureKdSpec.TeacherFeatures t : features.teachers()) {
      boolean icl = iclOn && t.icl();
      Set<FeatureKind> teacherKinds = java.util.EnumSet.noneOf(FeatureKind.class); //    what the built terms read
      Set<FeatureKind> studentKinds = java.util.EnumSet.noneOf(FeatureKind.class);
      if (fdOn) {
        teacherKinds.addAll(t.dims().keySet());
        studentKinds.addAll(t.dims().keySet());
      }
      if (icl) { // student image → teacher text; and student text → teacher image where the teacher has images
        teacherKinds.add(FeatureKind.TEXT);
        studentKinds.add(FeatureKind.IMAGE);
        if (t.has(FeatureKind.IMAGE)) {
          teacherKinds.add(FeatureKind.IMAGE);
          studentKinds.add(FeatureKind.TEXT);
        }
      }
      Map<FeatureKind, SDVariable> s = new java.util.EnumMap<>(FeatureKind.class); // normalised, projected student [B, Dt]
      Map<FeatureKind, SDVariable> tf = new java.util.EnumMap<>(FeatureKind.class); // normalised teacher [B, Dt]
      for (FeatureKind k : teacherKinds) {
        SDVariable ph = sd.hasVariable(featurePlaceholder(t.name(), k)) ? sd.getVariable(featurePlaceholder(t.name(), k))
            : sd.placeHolder(featurePlaceholder(t.name(), k), g.dtype(), -1, t.dims().get(k));
        tf.put(k, Losses.l2Normalize(sd, ph));
      }
      for (FeatureKind k : studentKinds) {
        // the student's image feature is projected also for a text-only teacher: ICL contrasts it with the teacher's text
        Integer dt = t.dims().get(k);
        if (dt == null) dt = t.dims().get(FeatureKind.TEXT);
        final int to = dt;
        SDVariable x = studentFeature(p, k); //                                  [B, Ds]
        String scope = featureProjection(t.name(), k);
        int ds = studentWidth(k);
        SDVariable w = param(g, scope + ".weight", () -> randn(g, scope, ds, to)); //  [Ds, Dt]
        SDVariable b = param(g, scope + ".bias", () -> Nd4j.zeros(g.dtype(), to)); //   [Dt]
        s.put(k, Losses.l2Normalize(sd, x.mmul(w).add(b))); //                    [B, Dt]
      }
      if (fdOn) {
        SDVariable fd = null;
        for (FeatureKind k : t.dims().keySet()) fd = plus(fd, Losses.featureDistillation(sd, s.get(k), tf.get(k)));
        fd = fd.rename("loss/fd/" + t.name());
        perTeacher.add("loss_fd_" + t.name());
        fdSum = plus(fdSum, fd.mul(t.weight()));
      }
      if (icl) {
        SDVariable scale = param(g, "distill.fkd." + t.name() + ".logit_scale", () -> Nd4j.scalar(g.dtype(), ICL_SCALE_INIT));
        SDVariable l = Losses.contrastive(sd, s.get(FeatureKind.IMAGE), tf.get(FeatureKind.TEXT), scale);
        if (t.has(FeatureKind.IMAGE)) {
          l = l.add(Losses.contrastive(sd, s.get(FeatureKind.TEXT), tf.get(FeatureKind.IMAGE), scale)).div(2.0);
        }
        l = l.rename("loss/icl/" + t.name());
        perTeacher.add("loss_icl_" + t.name());
        iclSum = plus(iclSum, l.mul(t.weight()));
      }
    }
    if (fdSum != null) {
      keys.add("loss_fd");
      total = plus(total, fdSum.rename("loss/fd").mul(w(LossTerm.FD)));
    }
    if (iclSum != null) {
      keys.add("loss_icl");
      total = plus(total, iclSum.rename("loss/icl").mul(w(LossTerm.ICL)));
    }
    keys.addAll(perTeacher);
    return total;
  }

  /** The student feature a teacher's features of kind k are compared with: [B, D]. */
  private SDVariable studentFeature(Pass p, FeatureKind k) {
    boolean fused = features.student() == RunConfig.StudentFeatures.FUSED;
    return switch (k) {
      // token 0 of the encoder's last hidden state: [CLS]/<s> for the text, CLIP's class token for the image
      case TEXT -> fused ? p.pooledText() : p.textOut().get(SDIndex.all(), SDIndex.point(0), SDIndex.all());
      case IMAGE -> fused ? p.pooledImage() : p.visionOut().get(SDIndex.all(), SDIndex.point(0), SDIndex.all());
      case JOINT -> p.joint();
    };
  }

  private int studentWidth(FeatureKind k) {
    boolean fused = features.student() == RunConfig.StudentFeatures.FUSED;
    return switch (k) {
      case TEXT -> fused ? cfg.fusion().width() : cfg.text().encoder().width();
      case IMAGE -> fused ? cfg.fusion().width() : cfg.vision().encoder().width();
      case JOINT -> 2 * cfg.fusion().width();
    };
  }

  /**
   * Scope of the student's learned projection of its kind-k feature into teacher {@code teacher}'s width:
   * {@code .weight} [Ds, Dt] and {@code .bias} [Dt] (the image one is the ICL head {@code evaluate-features} scores).
   */
  public static String featureProjection(String teacher, FeatureKind k) {
    return "distill.fkd." + teacher + "." + k.key() + ".proj";
  }

  /** Placeholder of teacher {@code teacher}'s offline features of kind k: [B, D]. */
  public static String featurePlaceholder(String teacher, FeatureKind k) {
    return "fkd/" + teacher + "/" + k.key();
  }

  /** The graph variable of a metric key, the feature terms' per-teacher keys included. */
  public static String lossVariableOf(String key) {
    String v = LOSSES.get(key);
    if (v != null) return v;
    if (key.equals("loss_fd")) return "loss/fd";
    if (key.equals("loss_icl")) return "loss/icl";
    if (key.startsWith("loss_fd_")) return "loss/fd/" + key.substring("loss_fd_".length());
    if (key.startsWith("loss_icl_")) return "loss/icl/" + key.substring("loss_icl_".length());
    throw new IllegalArgumentException("no loss term '" + key + "'");
  }

  /** A weight of this graph; in a per-pass graph the training graph's own array (shared, see perPassGraphs). */
  private SDVariable param(M3aeGraph g, String name, java.util.function.Supplier<INDArray> init) {
    SameDiff sd = g.sd();
    if (sd.hasVariable(name)) return sd.getVariable(name);
    if (g != graph && graph.sd().hasVariable(name)) return sd.var(name, graph.sd().getArrForVarName(name));
    return sd.var(name, init.get());
  }

  private INDArray randn(M3aeGraph g, String name, long in, long out) {
    Nd4j.getRandom().setSeed(cfg.init().seed() * 31 + name.hashCode());
    return Nd4j.randn(g.dtype(), in, out).muli(cfg.init().std());
  }

  /**
   * L_hid = Σ_stacks w_stack·Σ_i MSE(H_i^S, H_m(i)^T) on the matched rows (paper §3.2.1; w_stack = 1 there,
   * {@code kd.hidden.weights}, EfficientVLM weighs its image term 0.1).
   */
  private SDVariable hiddenKd(M3aeGraph g, Pass s, SDVariable rows) {
    SameDiff sd = g.sd();
    SDVariable sum = null;
    for (Stack st : Stack.ENCODERS) {
      int[] m = mapping.hidden().get(st);
      List<SDVariable> hs = st.hidden(s);
      int ds = st.width(cfg), dtw = st.width(teacherCfg);
      int len = st.tokens(s);
      for (int i = 0; i < m.length; i++) {
        String tName = st.hiddenName(m[i]);
        SDVariable target = kdPlaceholder(sd, tName, len, dtw);
        SDVariable h = hs.get(i);
        if (ds != dtw) {
          // TinyBERT's W_h: one learned projection per stack when widths differ (paper §3.2.1, SPEC §6.3).
          var proj = graphParamsLinear(g, "distill." + st.label() + ".proj", ds, dtw);
          h = sd.reshape(sd.reshape(h, -1, ds).mmul(proj), -1, len, dtw);
        }
        SDVariable term = Losses.rowWeightedMse(sd, h, target, rows, 3);
        double ws = kd.hiddenWeights().get(st);
        if (ws != 1) term = term.mul(ws); // weight 1 adds no op: the paper's graph stays as it was
        sum = sum == null ? term : sum.add(term);
      }
    }
    return sum;
  }

  /**
   * L_attn = Σ_stacks w_stack·Σ_layers c·D(A_S, A_T(m)) for every self- and cross-attention, where D is by
   * {@code kd.attention.form}:
   * <ul>
   *   <li>{@code probs}: (1/h)·Σ_heads MSE on post-softmax maps — the paper's literal L_attn (§3.2.2);
   *   <li>{@code scores}: MSE on pre-softmax scores Q·Kᵀ/√d_h with padded keys' entries zeroed in both (EfficientVLM);
   *   <li>{@code kl}: KL(A_T ‖ A_S) over the keys of each query, averaged over heads and queries;
   * </ul>
   * each averaged over the matched rows; maps are head-averaged first when head counts differ (SPEC §6.1 proposal).
   * c = L_k with {@code scale: keys} (EfficientVLM multiplies by the key count), else 1; w_stack from
   * {@code kd.attention.weights} (1 in the paper).
   */
  private SDVariable attentionKd(SameDiff sd, Pass s, SDVariable rows) {
    SDVariable sum = null;
    int lt = s.textLen(), li = s.imageTokens();
    for (Stack st : Stack.ENCODERS) {
      int[] m = mapping.attention().get(st);
      int hs = st.heads(cfg), ht = st.heads(teacherCfg);
      int lq = st.tokens(s); // queries come from the stack's own stream
      for (int j = 0; j < m.length; j++) {
        List<String> student = st.attentionNames(j), teacher = st.attentionNames(m[j]); // student layer j ← teacher m[j]
        for (int k = 0; k < student.size(); k++) {
          String sa = student.get(k), ta = teacher.get(k);
          boolean imageKeys = sa.startsWith("vision") || sa.equals(Names.fusionSelfAttn(Names.IMAGE_STREAM, j))
              || sa.equals(Names.fusionCrossAttn(Names.TEXT, j));
          int lk = imageKeys ? li : lt;
          boolean scores = kd.attention() == RunConfig.AttentionForm.SCORES;
          SDVariable a = sd.getVariable(s.name(scores ? Names.scores(sa) : sa)); //        [B, hs, Lq, Lk]
          SDVariable target = kdPlaceholder(sd, scores ? Names.scores(ta) : ta, ht, lq, lk); // [B, ht, Lq, Lk]
          if (scores && !imageKeys) {
            // padded text keys: their scores are arbitrary (the additive mask hides them), so 0 in both
            SDVariable keyMask = sd.getVariable(s.name(Names.TEXT_MASK)); // [B, Lt]
            a = KdLosses.maskedScores(sd, a, keyMask, lk);
            target = KdLosses.maskedScores(sd, target, keyMask, lk);
          }
          if (hs != ht) {
            // Different head counts: compare head-averaged maps (SPEC §6.1 proposal).
            a = a.mean(true, 1);
            target = target.mean(true, 1);
          }
          SDVariable term = kd.attention() == RunConfig.AttentionForm.KL
              ? Losses.weightedMean(sd, KdLosses.attentionKl(sd, a, target), rows)
              : Losses.rowWeightedMse(sd, a, target, rows, 4); // probs (the paper) and scores: MSE
          if (kd.scale() == RunConfig.AttentionScale.KEYS) term = term.mul((double) lk);
          double ws = kd.attentionWeights().get(st);
          if (ws != 1) term = term.mul(ws);
          sum = sum == null ? term : sum.add(term);
        }
      }
    }
    return sum;
  }

  private SDVariable graphParamsLinear(M3aeGraph g, String name, int in, int out) {
    SameDiff sd = g.sd();
    if (sd.hasVariable(name + ".weight")) return sd.getVariable(name + ".weight");
    if (g != graph && graph.sd().hasVariable(name + ".weight")) {
      return sd.var(name + ".weight", graph.sd().getArrForVarName(name + ".weight")); // shared, see perPassGraphs
    }
    org.nd4j.linalg.factory.Nd4j.getRandom().setSeed(cfg.init().seed() * 31 + name.hashCode());
    return sd.var(name + ".weight", org.nd4j.linalg.factory.Nd4j.randn(g.dtype(), in, out).muli(cfg.init().std()));
  }

  private SDVariable kdPlaceholder(SameDiff sd, String teacherName, long... dims) {
    String ph = "kd/" + teacherName;
    if (sd.hasVariable(ph)) return sd.getVariable(ph);
    long[] shape = new long[dims.length + 1];
    shape[0] = -1;
    System.arraycopy(dims, 0, shape, 1, dims.length);
    kdTargets.put(ph, teacherName);
    return sd.placeHolder(ph, graph.dtype(), shape);
  }

  static void checkCompatible(ModelConfig s, ModelConfig t) {
    if (s.vision().imageSize() != t.vision().imageSize() || s.vision().patchSize() != t.vision().patchSize()) {
      throw new IllegalArgumentException("student (" + s.name() + ") and teacher (" + t.name() + ") must see the same "
          + "image grid for attention KD: vision.image_size/patch_size " + s.vision().imageSize() + "/"
          + s.vision().patchSize() + " vs " + t.vision().imageSize() + "/" + t.vision().patchSize());
    }
    if (s.text().maxTextLen() != t.text().maxTextLen() || s.text().vocabSize() != t.text().vocabSize()) {
      throw new IllegalArgumentException("student and teacher must share the tokenizer and text length: text.vocab_size/"
          + "max_text_len " + s.text().vocabSize() + "/" + s.text().maxTextLen() + " vs " + t.text().vocabSize() + "/"
          + t.text().maxTextLen());
    }
  }

  public M3aeGraph graph() {
    return graph;
  }

  public SameDiff sd() {
    return graph.sd();
  }

  /** The offline teachers' features the graph distils (null: none). */
  public FeatureKdSpec features() {
    return features;
  }

  /** Teacher outputs the KD terms need, by placeholder name. */
  public Map<String, String> kdTargets() {
    return kdTargets;
  }

  /**
   * Metric keys of the loss terms a step computes, in logging order: those of the {@link #activePasses}, then the
   * total.
   */
  public List<String> lossKeys() {
    if (lossKeys != null) return lossKeys;
    List<String> passes = activePasses();
    List<String> out = new ArrayList<>();
    for (String k : lossOrder) {
      String pass = switch (k) {
        case "loss_mlm", "loss_mlm_kd" -> MLM;
        case "loss_mim" -> MIM;
        case "loss_total" -> null;
        default -> k.startsWith("loss_fd") || k.startsWith("loss_icl") ? FEAT : ITM; // loss_itm and the KD terms live on the ITM pass
      };
      if (pass == null || passes.contains(pass)) out.add(k);
    }
    lossKeys = List.copyOf(out); // asked for every step by the trainer; the weights never change
    return lossKeys;
  }

  /**
   * The training passes whose terms carry weight. A pass weighted 0 adds nothing to the objective, so per-pass training
   * does not run it: an ITM-only run costs one forward and backward per step, not three. The ITM pass also carries the
   * KD terms, so it stays while any of itm, hid, attn, itm_kd weighs; the MLM pass carries mlm_kd.
   */
  public List<String> activePasses() {
    if (activePasses != null) return activePasses;
    List<String> out = new ArrayList<>();
    boolean t = teacherCfg != null;
    if (w(LossTerm.MLM) != 0 || (t && w(LossTerm.MLM_KD) != 0)) out.add(MLM);
    if (w(LossTerm.MIM) != 0) out.add(MIM);
    if (w(LossTerm.ITM) != 0 || (t && (w(LossTerm.HID) != 0 || w(LossTerm.ATTN) != 0 || w(LossTerm.ITM_KD) != 0))) out.add(ITM);
    if (features != null && (w(LossTerm.FD) != 0 || w(LossTerm.ICL) != 0)) out.add(FEAT);
    if (out.isEmpty()) throw new IllegalArgumentException("every objective weight is 0: nothing to train " + weights);
    activePasses = List.copyOf(out);
    return activePasses;
  }

  public List<String> lossVariables() {
    List<String> out = new ArrayList<>();
    for (String k : lossOrder) out.add(lossVariableOf(k));
    return out;
  }

  /** Names of the trainable variables. */
  public List<String> trainable() {
    List<String> out = new ArrayList<>();
    for (SDVariable v : graph.sd().variables()) if (v.getVariableType() == VariableType.VARIABLE) out.add(v.name());
    return out;
  }

  /** Output names of the clean pass the attention-guided mask reads: last ViT layer, last text→image cross-attn. */
  public List<String> maskAttentionNames() {
    return List.of(Names.visionAttn(cfg.vision().encoder().layers() - 1),
        Names.fusionCrossAttn(Names.TEXT, cfg.fusion().layers() - 1));
  }

  /**
   * The MLM pass's selected positions as a one-hot [M, B·Lt] with their label ids and weights [M]. A batch without a
   * selected token gets rows of weight 0 only (the first picks position 0): the loss is then 0, as the full-position
   * form gives. The rows are padded to a {@code Buckets} size so that runs see few distinct shapes.
   */
  static void putSelectedPositions(Map<String, INDArray> f, INDArray labelIds, INDArray weights) {
    int n = (int) weights.length();
    float[] w = weights.castTo(DataType.FLOAT).dup('c').data().asFloat();
    int[] ids = labelIds.castTo(DataType.INT32).dup('c').data().asInt();
    int m = 0;
    for (float x : w) if (x != 0) m++;
    // M padded to a bucket (Buckets) with rows of weight 0, as the no-selection case already was: they add 0 to the
    // weighted sum and nothing to its weight, so the loss and gradients are those of the M real rows.
    int rows = org.m3ae.model.Buckets.up(Math.max(1, m));
    float[] sel = new float[rows * n];
    int[] lab = new int[rows];
    float[] lw = new float[rows];
    int r = 0;
    for (int i = 0; i < n; i++) {
      if (w[i] == 0) continue;
      sel[r * n + i] = 1f;
      lab[r] = ids[i];
      lw[r] = w[i];
      r++;
    }
    if (m == 0) sel[0] = 1f;
    DataType dt = weights.dataType();
    f.put(Names.qualified(MLM, Names.MLM_SELECT), Nd4j.create(sel, new long[] {rows, n}, 'c').castTo(dt));
    f.put(MLM_SELECTED_LABEL_IDS, Nd4j.createFromArray(lab));
    f.put(MLM_SELECTED_WEIGHTS, Nd4j.createFromArray(lw).castTo(dt));
  }

  /** A gradient call's gradients with the batch-vocabulary rows' gradient turned into the word table's. */
  public Map<String, INDArray> tableGradients(Map<String, INDArray> grads, Map<String, INDArray> feed) {
    if (grads.containsKey(VocabSelect.ROWS)) {
      VocabSelect.scatter(grads, feed, graph.sd().getArrForVarName(VocabSelect.TABLE).shape());
    }
    return grads;
  }

  /** Feeds of the clean inference pass. */
  public static Map<String, INDArray> cleanFeed(Batch b) {
    Map<String, INDArray> f = new HashMap<>();
    f.put(Names.IMAGE, b.get(BatchKeys.IMAGE));
    f.put(Names.TEXT_IDS, b.get(BatchKeys.TEXT_IDS));
    f.put(Names.TEXT_MASK, b.get(BatchKeys.TEXT_MASK));
    return f;
  }

  /**
   * Every placeholder of the three training passes for a batch whose MIM arrays are final.
   *
   * @param teacher teacher outputs by teacher name (null without KD)
   */
  public Map<String, INDArray> trainingFeed(Batch b, Map<String, INDArray> teacher, SplittableRandom dropoutRng) {
    return trainingFeed(b, teacher, Map.of(), dropoutRng);
  }

  /**
   * As above, with the offline teachers' features of the batch's records by {@link #featurePlaceholder} (row i = record
   * i of the batch).
   */
  public Map<String, INDArray> trainingFeed(Batch b, Map<String, INDArray> teacher, Map<String, INDArray> offline,
      SplittableRandom dropoutRng) {
    return trainingFeed(b, teacher, offline, dropoutRng, null);
  }

  /**
   * As above, drawing dropout masks only for the sites in {@code maskSitesRead} (null: all; the others are all ones,
   * which is what a graph that never reads them gets either way).
   */
  public Map<String, INDArray> trainingFeed(Batch b, Map<String, INDArray> teacher, Map<String, INDArray> offline,
      SplittableRandom dropoutRng, java.util.Set<String> maskSitesRead) {
    Map<String, INDArray> f = new HashMap<>();
    INDArray image = b.get(BatchKeys.IMAGE), ids = b.get(BatchKeys.TEXT_IDS), mask = b.get(BatchKeys.TEXT_MASK);
    f.put(Names.qualified(MLM, Names.IMAGE), image);
    f.put(Names.qualified(MLM, Names.TEXT_IDS), b.get(BatchKeys.MLM_TEXT_IDS));
    f.put(Names.qualified(MLM, Names.TEXT_MASK), mask);
    f.put(MLM_LABEL_IDS, b.get(BatchKeys.MLM_LABEL_IDS));
    f.put(MLM_WEIGHTS, b.get(BatchKeys.MLM_WEIGHTS));
    f.put(Names.qualified(MIM, Names.IMAGE), image);
    f.put(Names.qualified(MIM, Names.TEXT_IDS), ids);
    f.put(Names.qualified(MIM, Names.TEXT_MASK), mask);
    f.put(Names.qualified(MIM, Names.IMAGE_KEEP_IDS), b.get(BatchKeys.IMAGE_KEEP_IDS));
    f.put(MIM_MASK, b.get(BatchKeys.IMAGE_MIM_MASK));
    f.put(Names.qualified(ITM, Names.IMAGE), b.get(BatchKeys.ITM_IMAGE));
    f.put(Names.qualified(ITM, Names.TEXT_IDS), ids);
    f.put(Names.qualified(ITM, Names.TEXT_MASK), mask);
    f.put(ITM_LABELS, b.get(BatchKeys.ITM_LABELS));
    if (teacherCfg != null) {
      f.put(KD_ROWS, b.get(BatchKeys.ITM_LABELS).castTo(graph.dtype()));
      for (var e : kdTargets.entrySet()) {
        INDArray t = teacher.get(e.getValue());
        if (t == null) throw new IllegalStateException("teacher output '" + e.getValue() + "' missing");
        f.put(e.getKey(), t);
      }
    }
    if (features != null) {
      f.put(Names.qualified(FEAT, Names.IMAGE), image);
      f.put(Names.qualified(FEAT, Names.TEXT_IDS), ids);
      f.put(Names.qualified(FEAT, Names.TEXT_MASK), mask);
      for (FeatureKdSpec.TeacherFeatures t : features.teachers()) {
        for (FeatureKind k : t.dims().keySet()) {
          String ph = featurePlaceholder(t.name(), k);
          INDArray x = offline.get(ph);
          if (x == null) throw new IllegalStateException("offline features '" + ph + "' missing from the step's feed");
          f.put(ph, x.dataType() == graph.dtype() ? x : x.castTo(graph.dtype()));
        }
      }
    }
    f.putAll(dropoutRng == null ? graph.dropout().identity(b.size(), graph.dtype())
        : graph.dropout().sample(b.size(), graph.dtype(), dropoutRng, maskSitesRead));
    if (sparseText && perPass != null) {
      List<SameDiff> sds = perPass.stream().map(GradientGraph::sd).toList();
      VocabSelect.prepare(f, activePasses(), graph.sd().getArrForVarName(VocabSelect.TABLE), sds);
      putSelectedPositions(f, b.get(BatchKeys.MLM_LABEL_IDS), b.get(BatchKeys.MLM_WEIGHTS));
    }
    return f;
  }
}
