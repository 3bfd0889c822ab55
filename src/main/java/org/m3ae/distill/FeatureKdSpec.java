package org.m3ae.distill;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.m3ae.train.FeatureKind;
import org.m3ae.train.RunConfig;

/**
 * What the pre-training graph needs to know of MMKD-CLIP's offline teachers (SPEC §10): per teacher its name, its
 * weight in the FD and ICL sums, and the width of each feature kind it contributes; and which student features the
 * teachers' text and image features are compared with.
 */
public record FeatureKdSpec(List<TeacherFeatures> teachers, RunConfig.StudentFeatures student) {

  /** One teacher's features as the graph sees them: kinds in use and their widths. */
  public record TeacherFeatures(String name, double weight, Map<FeatureKind, Integer> dims) {
    public TeacherFeatures {
      if (dims.isEmpty()) throw new IllegalArgumentException("feature teacher '" + name + "' has no feature kind to distil");
      dims = new EnumMap<>(dims);
      if (dims.containsKey(FeatureKind.TEXT) && dims.containsKey(FeatureKind.IMAGE) && !dims.get(FeatureKind.IMAGE).equals(dims.get(FeatureKind.TEXT))) {
        // ICL contrasts the student's projected image feature with the teacher's text features and its FD compares the
        // same feature with the teacher's image features: one projection, so both teacher widths must agree (as in a CLIP).
        throw new IllegalArgumentException("feature teacher '" + name + "': text width " + dims.get(FeatureKind.TEXT)
            + " and image width " + dims.get(FeatureKind.IMAGE) + " differ; ICL needs them equal (leave one out with kinds:)");
      }
    }

    /** ICL needs the teacher's text features (student image → teacher text; plus the reverse when it has images). */
    public boolean icl() {
      return dims.containsKey(FeatureKind.TEXT);
    }

    public boolean has(FeatureKind k) {
      return dims.containsKey(k);
    }
  }

  public FeatureKdSpec {
    teachers = List.copyOf(teachers);
    if (teachers.isEmpty()) throw new IllegalArgumentException("feature KD without teachers");
  }

  public boolean anyIcl() {
    return teachers.stream().anyMatch(TeacherFeatures::icl);
  }
}
