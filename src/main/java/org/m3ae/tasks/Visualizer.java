package org.m3ae.tasks;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import org.m3ae.data.DataRecord;
import org.m3ae.data.image.ClipTransform;
import org.m3ae.data.pipeline.Batch;
import org.m3ae.data.pipeline.BatchKeys;
import org.m3ae.data.pipeline.BatchOptions;
import org.m3ae.data.pipeline.PrefetchingBatchIterator;
import org.m3ae.masking.AttentionGuidedSampler;
import org.m3ae.masking.PatchImportance;
import org.m3ae.masking.PatchMask;
import org.m3ae.masking.RandomPatchMaskSampler;
import org.m3ae.model.ModelConfig;
import org.m3ae.model.Pass;
import org.m3ae.train.RunDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Pictures of what a model attends to (paper Figs. 4–6), as PNGs:
 * <ul>
 *   <li>{@code attention-<i>.png}: the scan, and the last co-attention layer's text → image attention (mean over heads
 *       and the question's real tokens) as a heat map over it, with the question, the target and the prediction;
 *   <li>{@code masks-<i>.png}: a random 75 % MIM mask beside the attention-guided one (paper §3.3: the r share of masked
 *       patches drawn from the least-attended, the rest of the mask from the most-attended patches);
 *   <li>{@code embeddings.png}: PCA of pooled image, pooled text and joint features, coloured by modality and, for the
 *       joint feature, by answer type (VQA) or class.
 * </ul>
 */
public final class Visualizer {
  private Visualizer() {}

  public static List<Path> run(TaskConfig tc, Path checkpoint, String split, int n, double r, Path outDir, PrintStream out) {
    Path weights = Files.isDirectory(checkpoint) ? checkpoint.resolve(RunDir.WEIGHTS) : checkpoint;
    Path runDir = weights.toAbsolutePath().getParent();
    ModelConfig model = ModelConfig.load(Path.of(tc.model()));
    List<Path> written = new ArrayList<>();
    try (TaskData td = TaskData.open(tc, model, runDir)) {
      TaskGraph g = TaskGraph.inference(model, tc.kind(), td.outputs(tc.kind()), td.textLen());
      FinetuneRun.loadInto(g.sd(), weights, td.data().tokenizer());
      Files.createDirectories(outDir);
      Pass p = g.pass();
      String cross = p.fusionTextCrossAttn().get(p.fusionTextCrossAttn().size() - 1).name();
      String vis = p.visionAttn().get(p.visionAttn().size() - 1).name();
      String pi = p.pooledImage().name(), pt = p.pooledText().name(), joint = p.joint().name();
      List<String> labels = tc.kind() == TaskKind.VQA ? td.data().answerVocabulary().answers() : null;
      Map<String, DataRecord> byLoc = new java.util.HashMap<>();
      for (DataRecord rec : td.data().records(split)) byLoc.put(rec.location(), rec);
      List<float[]> img = new ArrayList<>(), txt = new ArrayList<>(), jnt = new ArrayList<>();
      List<Integer> group = new ArrayList<>();
      int grid = model.vision().gridSize(), size = model.vision().imageSize();
      int drawn = 0;
      try (PrefetchingBatchIterator it = td.data().batches(split, BatchOptions.plain(), 32, 0, 0, false, false, tc.data().workers())) {
        while (it.hasNext() && img.size() < 300) {
          Batch b = it.next();
          Map<String, INDArray> o = g.sd().output(FinetuneTask.feed(g, b, null, false), cross, vis, pi, pt, joint, TaskGraph.LOGITS);
          INDArray mask = b.get(BatchKeys.TEXT_MASK);
          INDArray multi = PatchImportance.multiModal(o.get(cross), mask);
          float[][] guidedScores = PatchImportance.combine(PatchImportance.uniModal(o.get(vis)), multi);
          for (int i = 0; i < b.size(); i++) {
            img.add(o.get(pi).getRow(i).toFloatVector());
            txt.add(o.get(pt).getRow(i).toFloatVector());
            jnt.add(o.get(joint).getRow(i).toFloatVector());
            DataRecord rec = byLoc.get(b.locations().get(i));
            group.add(tc.kind() == TaskKind.VQA ? (Boolean.TRUE.equals(rec.closed()) ? 0 : 1)
                : tc.kind() == TaskKind.CLASSIFICATION ? b.get(BatchKeys.CLS_LABELS).getInt(i) : 0);
            if (drawn < n) {
              BufferedImage scan = toImage(b.get(BatchKeys.IMAGE), i, size);
              float[] heat = multi.getRow(i).toFloatVector();
              String caption = rec.text();
              String pred = "";
              if (labels != null) {
                int k = Metrics.argmax(o.get(TaskGraph.LOGITS).getRow(i).toFloatVector());
                pred = "target: " + rec.answer() + "   predicted: " + labels.get(k);
              }
              written.add(write(attentionFigure(scan, heat, grid, caption, pred), outDir.resolve("attention-" + drawn + ".png")));
              written.add(write(maskFigure(scan, guidedScores[i], grid, r, model.mim().maskRatio(), drawn), outDir.resolve("masks-" + drawn + ".png")));
              drawn++;
            }
          }
        }
      }
      String groupName = tc.kind() == TaskKind.VQA ? "answer type (green closed, red open)" : tc.kind() == TaskKind.CLASSIFICATION ? "class" : "";
      written.add(write(embeddingFigure(img, txt, jnt, group, groupName), outDir.resolve("embeddings.png")));
      out.println("wrote " + written.size() + " figures to " + outDir);
      return written;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The CLIP-normalised tensor row back to 8-bit RGB. */
  static BufferedImage toImage(INDArray images, int row, int size) {
    BufferedImage im = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < size; y++) for (int x = 0; x < size; x++) {
      int[] c = new int[3];
      for (int ch = 0; ch < 3; ch++) {
        double v = images.getDouble(row, ch, y, x) * ClipTransform.STD[ch] + ClipTransform.MEAN[ch];
        c[ch] = (int) Math.round(Math.max(0, Math.min(1, v)) * 255);
      }
      im.setRGB(x, y, (c[0] << 16) | (c[1] << 8) | c[2]);
    }
    return im;
  }

  static final int SCALE = 3;

  static BufferedImage attentionFigure(BufferedImage scan, float[] heat, int grid, String question, String pred) {
    int s = scan.getWidth() * SCALE, pad = 10, top = 50;
    BufferedImage fig = canvas(2 * s + 3 * pad, s + top + pad);
    Graphics2D g = fig.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BICUBIC);
    text(g, "Q: " + question, pad, 18);
    text(g, pred, pad, 38);
    g.drawImage(scan, pad, top, s, s, null);
    g.drawImage(scan, 2 * pad + s, top, s, s, null);
    float max = 0, min = Float.MAX_VALUE;
    for (float v : heat) {
      max = Math.max(max, v);
      min = Math.min(min, v);
    }
    int cell = s / grid;
    for (int p = 0; p < heat.length; p++) {
      float t = max > min ? (heat[p] - min) / (max - min) : 0;
      g.setColor(jet(t, 0.55f));
      g.fillRect(2 * pad + s + (p % grid) * cell, top + (p / grid) * cell, cell, cell);
    }
    g.dispose();
    return fig;
  }

  static BufferedImage maskFigure(BufferedImage scan, float[] scores, int grid, double r, double ratio, int seed) {
    int n = grid * grid, s = scan.getWidth() * SCALE, pad = 10, top = 30;
    PatchMask random = new RandomPatchMaskSampler(ratio).sample(n, null, new SplittableRandom(seed));
    AttentionGuidedSampler guided = new AttentionGuidedSampler(ratio, r);
    PatchMask att = guided.sample(n, scores, new SplittableRandom(seed));
    BufferedImage fig = canvas(3 * s + 4 * pad, s + top + pad);
    Graphics2D g = fig.createGraphics();
    text(g, "image", pad, 20);
    text(g, String.format("random mask (%.0f%%)", 100 * ratio), 2 * pad + s, 20);
    text(g, String.format("attention-guided (r = %.2f)", r), 3 * pad + 2 * s, 20);
    for (int k = 0; k < 3; k++) g.drawImage(scan, pad + k * (s + pad), top, s, s, null);
    int cell = s / grid;
    for (int k = 1; k <= 2; k++) {
      int[] masked = (k == 1 ? random : att).masked();
      g.setColor(new Color(90, 90, 90, 235));
      for (int p : masked) g.fillRect(pad + k * (s + pad) + (p % grid) * cell, top + (p / grid) * cell, cell, cell);
    }
    g.dispose();
    return fig;
  }

  static BufferedImage embeddingFigure(List<float[]> img, List<float[]> txt, List<float[]> jnt, List<Integer> group, String groupName) {
    int w = 420, h = 420, pad = 20;
    BufferedImage fig = canvas(2 * w + 3 * pad, h + 2 * pad + 20);
    Graphics2D g = fig.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    // panel 1: pooled image and text features in one PCA (colour = modality)
    List<float[]> both = new ArrayList<>(img);
    both.addAll(txt);
    double[][] p1 = Pca.project(both, 2);
    List<Integer> mod = new ArrayList<>();
    for (int i = 0; i < both.size(); i++) mod.add(i < img.size() ? 0 : 1);
    scatter(g, p1, mod, pad, pad + 20, w, h, new Color[] {new Color(31, 119, 180), new Color(255, 127, 14)});
    text(g, "pooled image (blue) vs text (orange), PCA", pad, 16);
    double[][] p2 = Pca.project(jnt, 2);
    scatter(g, p2, group, 2 * pad + w, pad + 20, w, h, new Color[] {new Color(44, 160, 44), new Color(214, 39, 40), new Color(148, 103, 189),
        new Color(140, 86, 75), new Color(227, 119, 194), new Color(127, 127, 127), new Color(188, 189, 34)});
    text(g, "joint feature, PCA" + (groupName.isEmpty() ? "" : "; colour = " + groupName), 2 * pad + w, 16);
    g.dispose();
    return fig;
  }

  static void scatter(Graphics2D g, double[][] pts, List<Integer> group, int x0, int y0, int w, int h, Color[] colors) {
    double minX = Double.MAX_VALUE, maxX = -Double.MAX_VALUE, minY = Double.MAX_VALUE, maxY = -Double.MAX_VALUE;
    for (double[] p : pts) {
      minX = Math.min(minX, p[0]);
      maxX = Math.max(maxX, p[0]);
      minY = Math.min(minY, p[1]);
      maxY = Math.max(maxY, p[1]);
    }
    g.setColor(Color.LIGHT_GRAY);
    g.setStroke(new BasicStroke(1));
    g.drawRect(x0, y0, w, h);
    for (int i = 0; i < pts.length; i++) {
      int x = x0 + 5 + (int) ((w - 10) * (maxX > minX ? (pts[i][0] - minX) / (maxX - minX) : 0.5));
      int y = y0 + 5 + (int) ((h - 10) * (maxY > minY ? 1 - (pts[i][1] - minY) / (maxY - minY) : 0.5));
      Color c = colors[Math.floorMod(group.get(i), colors.length)];
      g.setColor(new Color(c.getRed(), c.getGreen(), c.getBlue(), 170));
      g.fillOval(x - 3, y - 3, 7, 7);
    }
  }

  static BufferedImage canvas(int w, int h) {
    BufferedImage fig = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = fig.createGraphics();
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, w, h);
    g.dispose();
    return fig;
  }

  static void text(Graphics2D g, String s, int x, int y) {
    g.setColor(Color.BLACK);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
    g.drawString(s.length() > 110 ? s.substring(0, 107) + "..." : s, x, y);
  }

  /** Blue → green → red colour map with alpha. */
  static Color jet(float t, float alpha) {
    float r = Math.max(0, Math.min(1, 1.5f - Math.abs(4 * t - 3)));
    float gr = Math.max(0, Math.min(1, 1.5f - Math.abs(4 * t - 2)));
    float b = Math.max(0, Math.min(1, 1.5f - Math.abs(4 * t - 1)));
    return new Color(r, gr, b, alpha);
  }

  static Path write(BufferedImage im, Path file) throws IOException {
    if (!ImageIO.write(im, "png", file.toFile())) throw new IOException("no PNG writer for " + file);
    return file;
  }

  /** Principal components by power iteration with deflation on the centred data (small n × d here). */
  static final class Pca {
    static double[][] project(List<float[]> rows, int k) {
      int n = rows.size(), d = rows.get(0).length;
      INDArray x = Nd4j.create(n, d);
      for (int i = 0; i < n; i++) x.putRow(i, Nd4j.createFromArray(rows.get(i)).castTo(x.dataType()));
      x.subiRowVector(x.mean(0));
      INDArray cov = x.transpose().mmul(x).divi(Math.max(1, n - 1));
      double[][] out = new double[n][k];
      for (int c = 0; c < k; c++) {
        INDArray v = Nd4j.ones(x.dataType(), d, 1).divi(Math.sqrt(d)); // deterministic start: the same figure every run
        for (int it = 0; it < 200; it++) {
          v = cov.mmul(v);
          double norm = v.norm2Number().doubleValue();
          if (norm < 1e-12) break;
          v.divi(norm);
        }
        double lambda = v.transpose().mmul(cov).mmul(v).getDouble(0);
        cov.subi(v.mmul(v.transpose()).muli(lambda));
        INDArray proj = x.mmul(v);
        for (int i = 0; i < n; i++) out[i][c] = proj.getDouble(i, 0);
      }
      return out;
    }
  }
}
