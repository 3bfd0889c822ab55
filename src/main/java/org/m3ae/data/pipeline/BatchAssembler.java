package org.m3ae.data.pipeline;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.m3ae.data.DataRecord;
import org.m3ae.data.SkipReport;
import org.m3ae.data.image.ClipTransform;
import org.m3ae.data.image.ImageDecodeException;
import org.m3ae.data.image.ImageDecoder;
import org.m3ae.data.text.EncodedText;
import org.m3ae.data.text.TextTokenizer;
import org.m3ae.data.vqa.AnswerVocabulary;
import org.m3ae.masking.ItmNegatives;
import org.m3ae.masking.ItmSampler;
import org.m3ae.masking.MlmMasker;
import org.m3ae.masking.PatchMask;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Decodes, transforms, tokenises and masks the records of one batch. Every random choice comes
 * from a generator seeded by (seed, epoch, dataset index), so a sample's augmentation and masks do
 * not depend on batch size, worker count or which other records were skipped.
 */
public final class BatchAssembler {

  private final String split;
  private final List<DataRecord> records;
  private final String[] imageKeys;
  /** Each record's caption words, for {@link ItmNegatives#HARD}; null otherwise. */
  private final List<Set<String>> words;
  private final TextTokenizer tokenizer;
  private final ClipTransform transform;
  private final AnswerVocabulary vocab;
  private final Map<String, Integer> labels;
  private final BatchOptions opts;
  private final SkipReport report;
  private final MlmMasker mlm;
  private final ImageCache cache;

  public BatchAssembler(String split, List<DataRecord> records, TextTokenizer tokenizer, ClipTransform transform,
      AnswerVocabulary vocab, Map<String, Integer> labels, BatchOptions opts, SkipReport report, ImageCache cache) {
    this.cache = cache;
    this.split = split;
    this.records = records;
    this.tokenizer = tokenizer;
    this.transform = transform;
    this.vocab = vocab;
    this.labels = labels;
    this.opts = opts;
    this.report = report;
    this.imageKeys = records.stream().map(r -> r.image().toString()).toArray(String[]::new);
    this.words = opts.itm() && opts.itmNegatives() == ItmNegatives.HARD
        ? records.stream().map(r -> ItmSampler.words(r.text() == null ? "" : r.text())).toList()
        : null;
    this.mlm = opts.mlm()
        ? new MlmMasker(opts.mlmMasking(), opts.mlmProbability(), tokenizer.specials().forMasking(), tokenizer.vocabSize(), tokenizer.wordPieces())
        : null;
    if (opts.mimSampler() != null && transform.size() % opts.patchSize() != 0)
      throw new IllegalArgumentException("image size " + transform.size() + " is not a multiple of the patch size " + opts.patchSize());
  }

  public static long mix(long... parts) {
    long h = 0x9E3779B97F4A7C15L;
    for (long p : parts) {
      h ^= p + 0x9E3779B97F4A7C15L + (h << 6) + (h >>> 2);
      h = new SplittableRandom(h).nextLong();
    }
    return h;
  }

  private float[] image(DataRecord r, long seed, int epoch, int index, int salt) throws ImageDecodeException {
    if (cache != null && transform.deterministic()) {
      float[] out = new float[3 * transform.size() * transform.size()];
      ClipTransform.normalize(cache.get(r.image(), f -> transform.geometry(ImageDecoder.decode(f), null)), out, 0);
      return out;
    }
    return transform.apply(ImageDecoder.decode(r.image()), new SplittableRandom(mix(seed, epoch, index, salt)));
  }

  /** Builds the batch of {@code indices}; records whose image fails to decode are reported and left out. */
  public Batch assemble(int[] indices, long seed, int epoch, int batchIndex) {
    int s = transform.size();
    int px = 3 * s * s;
    int[] swap = null;
    if (opts.itm()) {
      String[] keys = new String[indices.length];
      for (int i = 0; i < indices.length; i++) keys[i] = imageKeys[indices[i]];
      SplittableRandom rng = new SplittableRandom(mix(seed, epoch, batchIndex, 7));
      if (words == null) swap = ItmSampler.negatives(keys, imageKeys, rng);
      else {
        List<Set<String>> own = new ArrayList<>();
        for (int i : indices) own.add(words.get(i));
        swap = ItmSampler.hardNegatives(keys, own, imageKeys, words, opts.itmCandidates(), rng);
      }
    }
    List<Integer> ok = new ArrayList<>();
    List<float[]> imgs = new ArrayList<>(), itmImgs = new ArrayList<>();
    for (int i = 0; i < indices.length; i++) {
      DataRecord r = records.get(indices[i]);
      try {
        float[] img = image(r, seed, epoch, indices[i], 1);
        float[] itm = null;
        if (swap != null) itm = swap[i] < 0 ? img : image(records.get(swap[i]), seed, epoch, indices[i], 2);
        imgs.add(img);
        itmImgs.add(itm);
        ok.add(i);
      } catch (ImageDecodeException e) {
        String loc = swap != null && swap[i] >= 0 && !e.getMessage().contains(r.image().toString()) ? records.get(swap[i]).location() : r.location();
        report.bad(split, e.reason(), loc, e.getMessage());
      }
    }
    int b = ok.size();
    int len = tokenizer.maxLength();
    float[] image = new float[b * px];
    int[] ids = new int[b * len], pos = new int[b * len];
    float[] mask = new float[b * len];
    List<String> idList = new ArrayList<>(), locs = new ArrayList<>();
    Map<String, INDArray> out = new LinkedHashMap<>();
    int[] mlmIds = mlm != null ? new int[b * len] : null, mlmLabels = mlm != null ? new int[b * len] : null;
    for (int k = 0; k < b; k++) {
      int i = ok.get(k);
      DataRecord r = records.get(indices[i]);
      System.arraycopy(imgs.get(k), 0, image, k * px, px);
      EncodedText t = tokenizer.encode(r.text());
      System.arraycopy(t.ids(), 0, ids, k * len, len);
      System.arraycopy(t.mask(), 0, mask, k * len, len);
      System.arraycopy(t.positionIds(), 0, pos, k * len, len);
      if (mlm != null) {
        MlmMasker.Result m = mlm.apply(t.ids(), t.mask(), new SplittableRandom(mix(seed, epoch, indices[i], 3)));
        System.arraycopy(m.ids(), 0, mlmIds, k * len, len);
        System.arraycopy(m.labels(), 0, mlmLabels, k * len, len);
      }
      idList.add(r.id());
      locs.add(r.location());
    }
    out.put(BatchKeys.IMAGE, Nd4j.createFromArray(image).reshape('c', b, 3, s, s));
    out.put(BatchKeys.TEXT_IDS, Nd4j.createFromArray(ids).reshape('c', b, len));
    out.put(BatchKeys.TEXT_MASK, Nd4j.createFromArray(mask).reshape('c', b, len));
    out.put(BatchKeys.TEXT_POSITION_IDS, Nd4j.createFromArray(pos).reshape('c', b, len));
    if (mlm != null) {
      int[] safe = new int[mlmLabels.length];
      float[] w = new float[mlmLabels.length];
      for (int j = 0; j < safe.length; j++) {
        boolean sel = mlmLabels[j] != MlmMasker.IGNORE;
        safe[j] = sel ? mlmLabels[j] : 0;
        w[j] = sel ? 1f : 0f;
      }
      out.put(BatchKeys.MLM_TEXT_IDS, Nd4j.createFromArray(mlmIds).reshape('c', b, len));
      out.put(BatchKeys.MLM_LABELS, Nd4j.createFromArray(mlmLabels).reshape('c', b, len));
      out.put(BatchKeys.MLM_LABEL_IDS, Nd4j.createFromArray(safe).reshape('c', b, len));
      out.put(BatchKeys.MLM_WEIGHTS, Nd4j.createFromArray(w).reshape('c', b, len));
    }
    if (opts.mimSampler() != null) {
      int grid = s / opts.patchSize(), n = grid * grid;
      int nk = PatchMask.lenKeep(n, opts.mimSampler().maskRatio());
      int[] keep = new int[b * nk], restore = new int[b * n];
      float[] mm = new float[b * n];
      for (int k = 0; k < b; k++) {
        PatchMask pm = opts.mimSampler().sample(n, null, new SplittableRandom(mix(seed, epoch, indices[ok.get(k)], 4)));
        if (pm.keep().length != nk) throw new IllegalStateException("patch sampler kept " + pm.keep().length + " patches, expected " + nk);
        System.arraycopy(pm.keep(), 0, keep, k * nk, nk);
        System.arraycopy(pm.restore(), 0, restore, k * n, n);
        for (int m : pm.masked()) mm[k * n + m] = 1f;
      }
      out.put(BatchKeys.IMAGE_KEEP_IDS, Nd4j.createFromArray(keep).reshape('c', b, nk));
      out.put(BatchKeys.IMAGE_RESTORE_IDS, Nd4j.createFromArray(restore).reshape('c', b, n));
      out.put(BatchKeys.IMAGE_MIM_MASK, Nd4j.createFromArray(mm).reshape('c', b, n));
    }
    if (swap != null) {
      float[] itm = new float[b * px];
      int[] lab = new int[b];
      for (int k = 0; k < b; k++) {
        System.arraycopy(itmImgs.get(k), 0, itm, k * px, px);
        lab[k] = swap[ok.get(k)] < 0 ? 1 : 0;
      }
      out.put(BatchKeys.ITM_IMAGE, Nd4j.createFromArray(itm).reshape('c', b, 3, s, s));
      out.put(BatchKeys.ITM_LABELS, Nd4j.createFromArray(lab));
    }
    if (vocab != null) {
      float[] tgt = new float[b * vocab.size()];
      int[] lab = new int[b];
      float[] closed = new float[b];
      for (int k = 0; k < b; k++) {
        DataRecord r = records.get(indices[ok.get(k)]);
        lab[k] = vocab.indexOf(r.answer());
        if (lab[k] >= 0) tgt[k * vocab.size() + lab[k]] = 1f;
        closed[k] = Boolean.TRUE.equals(r.closed()) ? 1f : 0f;
      }
      out.put(BatchKeys.VQA_TARGETS, Nd4j.createFromArray(tgt).reshape('c', b, vocab.size()));
      out.put(BatchKeys.VQA_LABELS, Nd4j.createFromArray(lab));
      out.put(BatchKeys.ANSWER_CLOSED, Nd4j.createFromArray(closed));
    }
    if (labels != null) {
      int[] lab = new int[b];
      for (int k = 0; k < b; k++) lab[k] = labels.get(records.get(indices[ok.get(k)]).label());
      out.put(BatchKeys.CLS_LABELS, Nd4j.createFromArray(lab));
    }
    return new Batch(out, List.copyOf(idList), List.copyOf(locs));
  }
}
