package org.m3ae.distill;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.m3ae.model.BuildOptions;
import org.m3ae.model.M3aeModel;
import org.m3ae.model.ModelConfig;
import org.m3ae.model.ModelConfigLoader;
import org.m3ae.testing.GradCheck;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Finite differences over the whole distillation objective as a run builds it (issue 18 §2): the student's MLM + MIM +
 * ITM, the hidden-state KD through the learned width projections (student 16 wide, teacher 32) and the attention KD on
 * head-averaged maps (1 head against 2), every term weighted, on one attention-guided pre-training feed. The graph is
 * {@link PretrainGraph}'s own, built in double precision; the teacher's outputs arrive as placeholders, as in a run.
 */
class DistillGradientCheckTest {
  @Test
  void everyWeightOfTheDistillationObjective() throws Exception {
    ModelConfig teacherCfg = ModelConfigLoader.parse(PretrainRunTest.MODEL.getBytes(), "micro");
    ModelConfig studentCfg = ModelConfigLoader.parse(PretrainGraphSplitTest.STUDENT.getBytes(), "micro-student");
    PretrainGraph g = new PretrainGraph(studentCfg, teacherCfg, KdMapping.of(teacherCfg, studentCfg, Map.of()),
        Map.of("mlm", 1.0, "mim", 0.5, "itm", 2.0, "hid", 3.0, "attn", 70.0), false, false, DataType.DOUBLE);
    Teacher teacher = Teacher.of(M3aeModel.build(teacherCfg, BuildOptions.defaults()));
    DistillTask task = new DistillTask(g, teacher, DistillTask.MaskSource.BOTH, 0.75, 0.95, 0.3, 10, 5, false);
    Map<String, INDArray> feed = task.feed(SyntheticBatch.first(studentCfg.vision().imageSize(), 11), 0, 0);

    SameDiff sd = g.sd();
    Map<String, INDArray> feedD = new HashMap<>();
    feed.forEach((k, a) -> feedD.put(k, a.dataType() == DataType.FLOAT ? a.castTo(DataType.DOUBLE) : a));

    for (String term : new String[] {"loss/hid", "loss/attn"}) {
      double v = sd.output(feedD, term).get(term).getDouble(0);
      assertTrue(v > 0, term + " is a real term: " + v);
    }
    GradCheck.Result r = GradCheck.check(sd, feedD, "loss/total", 1, 23, 1e-6, 1e-4, 1e-9);
    assertTrue(r.nonZero() > r.checked() / 2, "most sampled gradients are non-zero: " + r);
    assertTrue(sd.variables().stream().anyMatch(x -> x.name().startsWith("distill.")), "the width projections are checked");
    System.out.println("distillation objective: " + r);
  }
}
