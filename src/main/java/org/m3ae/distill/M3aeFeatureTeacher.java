package org.m3ae.distill;

import org.m3ae.distill.features.FeatureTeacher;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.m3ae.data.pipeline.Batch;
import org.m3ae.model.ModelConfig;
import org.m3ae.model.Names;
import org.m3ae.train.FeatureKind;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * An M3AE-family model as an offline teacher: on the unmasked pair, the fusion poolers' text and image outputs and
 * their concatenation, the joint feature every downstream head reads (SPEC §1.4).
 */
public final class M3aeFeatureTeacher implements FeatureTeacher {
  private final Teacher teacher;

  public M3aeFeatureTeacher(Teacher teacher) {
    this.teacher = teacher;
    teacher.request(List.of(Names.POOLED_TEXT, Names.POOLED_IMAGE, Names.JOINT));
  }

  public ModelConfig config() {
    return teacher.config();
  }

  @Override
  public Map<FeatureKind, Integer> dims() {
    int d = teacher.config().fusion().width();
    return Map.of(FeatureKind.TEXT, d, FeatureKind.IMAGE, d, FeatureKind.JOINT, 2 * d);
  }

  @Override
  public Map<FeatureKind, INDArray> features(Batch batch, List<String> texts) {
    Map<String, INDArray> o = teacher.forward(batch); // the forward's own arrays until its next call: copied below
    Map<FeatureKind, INDArray> out = new EnumMap<>(FeatureKind.class);
    out.put(FeatureKind.TEXT, o.get(Names.POOLED_TEXT).castTo(DataType.FLOAT).dup());
    out.put(FeatureKind.IMAGE, o.get(Names.POOLED_IMAGE).castTo(DataType.FLOAT).dup());
    out.put(FeatureKind.JOINT, o.get(Names.JOINT).castTo(DataType.FLOAT).dup());
    return out;
  }
}
