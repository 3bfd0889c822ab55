package org.m3ae.model;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.m3ae.model.PassSpec.Head;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * A SameDiff graph of one M3AE-family model: the weights (named as the official checkpoint, SPEC §4) and one or
 * more forward passes over them. Built by {@link M3aeModel}.
 */
public final class M3aeGraph {
  private final ModelConfig config;
  private final SameDiff sd;
  private final Params params;
  private final DropoutSites dropout = new DropoutSites();
  private final Map<String, Pass> passes = new LinkedHashMap<>();

  M3aeGraph(ModelConfig config, SameDiff sd, DataType dtype, boolean randomInit, SameDiff shareFrom) {
    this.config = config;
    this.sd = sd;
    this.params = new Params(sd, dtype, config.init().std(), config.init().seed(), randomInit, shareFrom);
  }

  public ModelConfig config() {
    return config;
  }

  public SameDiff sd() {
    return sd;
  }

  public DataType dtype() {
    return params.dtype();
  }

  public DropoutSites dropout() {
    return dropout;
  }

  public Pass pass(String name) {
    Pass p = passes.get(name);
    if (p == null) throw new IllegalArgumentException("no pass '" + name + "' (have " + passes.keySet() + ")");
    return p;
  }

  public Map<String, Pass> passes() {
    return Collections.unmodifiableMap(passes);
  }

  /** Trainable variables by name, in creation order. */
  public List<SDVariable> trainable() {
    List<SDVariable> out = new ArrayList<>();
    for (SDVariable v : sd.variables()) if (v.getVariableType() == VariableType.VARIABLE) out.add(v);
    return out;
  }

  /** Adds a forward pass; weights already created by earlier passes are reused. */
  public Pass addPass(PassSpec spec) {
    if (passes.containsKey(spec.name())) throw new IllegalArgumentException("pass '" + spec.name() + "' already exists");
    Nn nn = new Nn(params, spec.name(), spec.training(), spec.training() && spec.sparseText(), dropout);
    ModelConfig c = config;
    var v = c.vision();
    int lt = spec.textLen() > 0 ? spec.textLen() : c.text().maxTextLen();
    int keep = c.mimKeep();
    DataType dt = params.dtype();

    // [B, C, H, W], [B, Lt], [B, Lt], optionally [B, Lt] and [B, K]
    SDVariable image = sd.placeHolder(nn.qualify(Names.IMAGE), dt, -1, v.channels(), v.imageSize(), v.imageSize());
    SDVariable ids = sd.placeHolder(nn.qualify(Names.TEXT_IDS), DataType.INT32, -1, lt);
    SDVariable mask = sd.placeHolder(nn.qualify(Names.TEXT_MASK), dt, -1, lt);
    SDVariable types = spec.typeIds() ? sd.placeHolder(nn.qualify(Names.TEXT_TYPE_IDS), DataType.INT32, -1, lt) : null;
    SDVariable keepIds = spec.visiblePatches() ? sd.placeHolder(nn.qualify(Names.IMAGE_KEEP_IDS), DataType.INT32, -1, keep) : null;

    var vis = VisionEncoder.forward(nn, v, image, keepIds, keep);
    var txt = TextEncoder.forward(nn, c.text(), ids, mask, types, lt);
    var fus = FusionEncoder.forward(nn, c, txt.out(), mask, lt, vis.out(), vis.tokens());

    int last = c.fusion().layers();
    int df = c.fusion().width();
    SDVariable textFeats = fus.textHidden().get(last);
    SDVariable imageFeats = fus.imageHidden().get(last);
    SDVariable pooledText = nn.name(Heads.pooler(nn, "multi_modal_language_pooler", textFeats, df), Names.POOLED_TEXT);
    SDVariable pooledImage = nn.name(Heads.pooler(nn, "multi_modal_vision_pooler", imageFeats, df), Names.POOLED_IMAGE);
    SDVariable joint = nn.name(sd.concat(1, pooledText, pooledImage), Names.JOINT); // [B, 2·Df]

    SDVariable mlm = !spec.heads().contains(Head.MLM) ? null
        : nn.name(spec.training() && spec.sparseText() ? Heads.mlmSelected(nn, c, textFeats) : Heads.mlm(nn, c, textFeats, lt),
            Names.MLM_LOGITS); // [B, Lt, V], or [M, V] at the selected positions

    SDVariable mim = spec.heads().contains(Head.MIM)
        ? nn.name(MimHead.forward(nn, c, fus.imageHidden().get(c.mimFusionLayer()), keepIds, keep), Names.MIM_PRED)
        : null;
    SDVariable itm = spec.heads().contains(Head.ITM) ? nn.name(Heads.itm(nn, c, joint), Names.ITM_LOGITS) : null;

    Pass p = new Pass(spec, lt, vis.tokens(), vis.hidden(), vis.attn(), vis.out(), txt.hidden(), txt.attn(), txt.out(),
        fus.textHidden(), fus.imageHidden(), fus.textSelf(), fus.textCross(), fus.imageSelf(), fus.imageCross(),
        pooledText, pooledImage, joint, mlm, mim, itm);
    passes.put(spec.name(), p);
    return p;
  }

  /** A text-encoder-only pass (e.g. for parity with a BERT-family ONNX model): inputs as above, output text.out. */
  public TextOnly addTextOnlyPass(String name, int len, boolean typeIds) {
    Nn nn = new Nn(params, name, false, false, dropout);
    SDVariable ids = sd.placeHolder(nn.qualify(Names.TEXT_IDS), DataType.INT32, -1, len);
    SDVariable mask = sd.placeHolder(nn.qualify(Names.TEXT_MASK), params.dtype(), -1, len);
    SDVariable types = typeIds ? sd.placeHolder(nn.qualify(Names.TEXT_TYPE_IDS), DataType.INT32, -1, len) : null;
    var txt = TextEncoder.forward(nn, config.text(), ids, mask, types, len);
    return new TextOnly(txt.hidden(), txt.attn(), txt.out());
  }

  /** The tensors of a text-only pass. */
  public record TextOnly(List<SDVariable> hidden, List<SDVariable> attn, SDVariable out) {}

  /**
   * A fusion-only inference pass: the co-attention layers, poolers and joint feature fed with the fusion inputs
   * (the towers' outputs projected to the fusion width, plus their modality embeddings) instead of an image and
   * token ids. Placeholders {@code NAME/<fusion input>.in}, text [B, Lt, Df] and image
   * [B, Li, Df] (a full pass's {@code Names.fusionHidden(stream, 0)} plus {@code .in}) and {@code NAME/text_mask} [B, Lt]; output
   * {@code NAME/joint}. With the fusion inputs of a full pass over the same weights it computes that pass's joint
   * feature: the towers and projections see only their own modality (SPEC §1.2–1.3), so a cross-encoder can run
   * them once per image and once per text and only this pass per pair.
   */
  public FusionOnly addFusionPass(String name, int textLen) {
    if (passes.containsKey(name)) throw new IllegalArgumentException("pass '" + name + "' already exists");
    Nn nn = new Nn(params, name, false, false, dropout);
    ModelConfig c = config;
    DataType dt = params.dtype();
    int li = c.vision().numTokens(), df = c.fusion().width();
    // ".in": coAttend gives the plain names to identities of these, as in a full pass
    SDVariable text = sd.placeHolder(nn.qualify(Names.fusionHidden(Names.TEXT, 0) + ".in"), dt, -1, textLen, df); //  [B, Lt, Df]
    SDVariable image = sd.placeHolder(nn.qualify(Names.fusionHidden(Names.IMAGE_STREAM, 0) + ".in"), dt, -1, li, df); // [B, Li, Df]
    SDVariable mask = sd.placeHolder(nn.qualify(Names.TEXT_MASK), dt, -1, textLen); //                                 [B, Lt]
    var fus = FusionEncoder.coAttend(nn, c, text, mask, textLen, image, li);
    int last = c.fusion().layers();
    SDVariable pooledText = Heads.pooler(nn, "multi_modal_language_pooler", fus.textHidden().get(last), df);
    SDVariable pooledImage = Heads.pooler(nn, "multi_modal_vision_pooler", fus.imageHidden().get(last), df);
    SDVariable joint = nn.name(sd.concat(1, pooledText, pooledImage), Names.JOINT); // [B, 2·Df]
    return new FusionOnly(text, image, mask, joint);
  }

  /** The placeholders and joint feature of a fusion-only pass. */
  public record FusionOnly(SDVariable textIn, SDVariable imageIn, SDVariable textMask, SDVariable joint) {}
}
