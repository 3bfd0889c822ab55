package org.m3ae.distill.features;

import java.nio.file.Path;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.m3ae.train.FeatureKind;
import org.m3ae.weights.SafetensorsReader;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One teacher's features as {@code extract-features} wrote them, held in memory and looked up by record id: a step's
 * batch gets the rows of its own records (MMKD-CLIP pre-saves its teachers' features the same way, SPEC §10).
 */
public final class OfflineFeatures {
  private final Path dir;
  private final FeatureManifest manifest;
  private final Map<String, Integer> row = new HashMap<>();
  private final Map<FeatureKind, float[]> values = new EnumMap<>(FeatureKind.class);
  private final Map<FeatureKind, Integer> dims = new EnumMap<>(FeatureKind.class);

  private OfflineFeatures(Path dir, FeatureManifest manifest) {
    this.dir = dir;
    this.manifest = manifest;
  }

  /** Reads a complete feature directory; an incomplete one (an interrupted extraction) is an error. */
  public static OfflineFeatures load(Path dir) {
    FeatureManifest m = FeatureManifest.read(dir);
    if (!m.complete()) {
      throw new IllegalArgumentException(dir.resolve(FeatureManifest.FILE) + ": extraction not complete (" + m.shards().size()
          + " shards so far); finish it with extract-features --resume");
    }
    OfflineFeatures f = new OfflineFeatures(dir, m);
    List<String> ids = m.ids();
    for (int i = 0; i < ids.size(); i++) {
      Integer prev = f.row.put(ids.get(i), i);
      if (prev != null) throw new IllegalArgumentException(dir + ": record id '" + ids.get(i) + "' appears twice (rows " + prev + ", " + i + ")");
    }
    int n = ids.size();
    m.dims().forEach((k, d) -> {
      f.dims.put(FeatureKind.of(k), d);
      f.values.put(FeatureKind.of(k), new float[n * d]);
    });
    int at = 0;
    for (FeatureManifest.Shard s : m.shards()) {
      Path file = dir.resolve(s.file());
      try (SafetensorsReader r = SafetensorsReader.open(file)) {
        for (var e : f.dims.entrySet()) {
          String key = e.getKey().key();
          long[] shape = r.contains(key) ? r.shape(key) : null;
          if (shape == null || shape.length != 2 || shape[0] != s.ids().size() || shape[1] != e.getValue()) {
            throw new IllegalArgumentException(file + ": key '" + key + "' should be [" + s.ids().size() + ", " + e.getValue()
                + "] as the manifest says, is " + (shape == null ? "absent" : java.util.Arrays.toString(shape)));
          }
          System.arraycopy(r.readFloats(key), 0, f.values.get(e.getKey()), at * e.getValue(), s.ids().size() * e.getValue());
        }
      }
      at += s.ids().size();
    }
    return f;
  }

  public FeatureManifest manifest() {
    return manifest;
  }

  public Path dir() {
    return dir;
  }

  /** Width of each kind the teacher provides. */
  public Map<FeatureKind, Integer> dims() {
    return dims;
  }

  public boolean has(String id) {
    return row.containsKey(id);
  }

  public int size() {
    return row.size();
  }

  /**
   * The features of kind k of the given records, in their order: [B, D]. A record without features is an error naming
   * it (and where it comes from, when {@code locations} is given).
   */
  public INDArray lookup(FeatureKind k, List<String> ids, List<String> locations) {
    Integer d = dims.get(k);
    if (d == null) throw new IllegalArgumentException(dir + ": teacher '" + manifest.teacher() + "' has no " + k.key() + " features (has " + dims.keySet() + ")");
    float[] src = values.get(k);
    float[] out = new float[ids.size() * d];
    for (int i = 0; i < ids.size(); i++) {
      Integer r = row.get(ids.get(i));
      if (r == null) {
        throw new IllegalArgumentException(dir + ": no features of teacher '" + manifest.teacher() + "' for record '" + ids.get(i) + "'"
            + (locations != null && i < locations.size() ? " (" + locations.get(i) + ")" : "") + "; extracted from "
            + manifest.pipeline() + " split " + manifest.split() + " (" + row.size() + " records)");
      }
      System.arraycopy(src, r * d, out, i * d, d);
    }
    return Nd4j.create(out, new long[] {ids.size(), d}, 'c');
  }
}
