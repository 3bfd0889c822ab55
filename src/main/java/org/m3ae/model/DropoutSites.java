package org.m3ae.model;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Dropout masks fed as placeholders. In DL4J 1.0.0-M2.1 {@code sd.nn.dropout} has no gradient and random ops redraw
 * the same numbers on every call (DL4J-NOTES), so a training graph declares one placeholder per dropout site and the
 * loop draws fresh inverted-dropout masks in Java each step. Inference graphs have no sites.
 */
public final class DropoutSites {
  /** One site: placeholder name, its shape with the batch axis as -1, and the drop probability. */
  public record Site(String placeholder, long[] shape, double rate) {}

  private final List<Site> sites = new ArrayList<>();
  private boolean disabled;
  /** All-ones arrays by data type and shape, shared by every feed that needs one. */
  private final Map<String, INDArray> ones = new HashMap<>();

  /** Feed all-ones masks from now on: the run trains without dropout (the placeholders stay in the graph). */
  public void disable() {
    disabled = true;
  }

  void add(Site s) {
    sites.add(s);
  }

  public List<Site> sites() {
    return Collections.unmodifiableList(sites);
  }

  public boolean isEmpty() {
    return sites.isEmpty();
  }

  /** Fresh masks for a batch: each element is 0 with probability p, else 1/(1−p), so expectations are unchanged. */
  public Map<String, INDArray> sample(int batch, DataType dtype, SplittableRandom rng) {
    return sample(batch, dtype, rng, null);
  }

  /**
   * As above for the sites in {@code read} (null: all); the others get one shared all-ones array per shape, which
   * costs nothing per step. A graph declares a placeholder for every site of the model, but a step whose terms skip a
   * tower reads none of that tower's masks: MMKD-CLIP's ICL term alone never runs the text tower, whose attention
   * masks ([B, 12, L, L] per layer for bge) were ~80 % of such a step (docs/performance.md, change 22). Each site
   * draws from its own {@code rng.split()}, so a site's mask does not depend on which other sites are drawn.
   */
  public Map<String, INDArray> sample(int batch, DataType dtype, SplittableRandom rng, java.util.Set<String> read) {
    if (disabled) return identity(batch, dtype);
    Map<String, INDArray> out = new HashMap<>();
    for (Site s : sites) {
      SplittableRandom r = rng.split();
      long[] shape = s.shape().clone();
      shape[0] = batch;
      if (read != null && !read.contains(s.placeholder())) {
        out.put(s.placeholder(), ones(dtype, shape));
        continue;
      }
      long n = 1;
      for (long d : shape) n *= d;
      float scale = (float) (1.0 / (1.0 - s.rate()));
      // Four 16-bit uniforms per 64-bit draw: the masks were 10 % of a tiny model's training step with one draw per
      // element (docs/performance.md, change 18). A unit is kept with probability round(keep·2^16)/2^16, within
      // 8e-6 of 1 − rate; the scale stays 1/(1 − rate).
      long threshold = Math.round((1.0 - s.rate()) * 65536.0);
      float[] v = new float[Math.toIntExact(n)];
      for (int i = 0; i < v.length; i += 4) {
        long x = r.nextLong();
        for (int k = 0; k < 4 && i + k < v.length; k++) v[i + k] = ((x >>> (16 * k)) & 0xFFFF) < threshold ? scale : 0f;
      }
      // one bulk copy into the native buffer: Nd4j.create(float[], …) writes element by element through an indexer
      INDArray m = Nd4j.createUninitialized(DataType.FLOAT, shape, 'c');
      m.data().asNioFloat().put(v);
      out.put(s.placeholder(), dtype == DataType.FLOAT ? m : m.castTo(dtype));
    }
    return out;
  }

  /**
   * Shared, never written: feeds are read-only to graphs and plans (a plan copies what it reads, and SameDiff's session
   * never releases a fed placeholder: {@code InferenceSession.PlaceholderDep}).
   */
  private synchronized INDArray ones(DataType dtype, long[] shape) {
    return ones.computeIfAbsent(dtype + java.util.Arrays.toString(shape), k -> Nd4j.ones(dtype, shape));
  }

  /** All-ones masks: the training graph evaluated without dropout (validation, gradient checks). */
  public Map<String, INDArray> identity(int batch, DataType dtype) {
    Map<String, INDArray> out = new HashMap<>();
    for (Site s : sites) {
      long[] shape = s.shape().clone();
      shape[0] = batch;
      out.put(s.placeholder(), ones(dtype, shape));
    }
    return out;
  }
}
