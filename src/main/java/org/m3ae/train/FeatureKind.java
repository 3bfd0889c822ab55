package org.m3ae.train;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Which per-pair feature an offline teacher provides (MMKD-CLIP, SPEC §10: image and text embeddings), plus the
 * M3AE family's joint feature. The same names key the tensors of a feature shard and the kinds a run distils.
 */
public enum FeatureKind {
  @JsonProperty("text") TEXT,
  @JsonProperty("image") IMAGE,
  @JsonProperty("joint") JOINT;

  /** The name in files and graph variables: {@code text}, {@code image}, {@code joint}. */
  public String key() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  public static FeatureKind of(String key) {
    for (FeatureKind k : values()) if (k.key().equals(key)) return k;
    throw new IllegalArgumentException("unknown feature kind '" + key + "' (text, image, joint)");
  }
}
