package org.m3ae.distill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.m3ae.model.Names;
import org.m3ae.model.Stack;
import org.m3ae.train.RunConfig;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The assembled KD terms of {@link PretrainGraph} in EfficientVLM's form (issue 18 §2) recomputed in plain Java loops
 * from the tensors they read: the student's scores, hidden states and logits (graph outputs), the teacher's (the
 * feed). Checks the pairing of layers, the zeroing of padded keys, head averaging, ×L_k, the per-stream weights, the
 * matched-row average and the temperature — what the finite-difference check cannot see (it checks derivatives of
 * whatever the graph computes).
 */
class KdTermsValueTest {
  @Test
  void efficientVlmTermsEqualTheirDefinitions() throws Exception {
    KdSpec kd = DistillGradientCheckTest.efficientVlm();
    PretrainGraph g = DistillGradientCheckTest.graph(DistillGradientCheckTest.LOGIT_WEIGHTS, kd);
    Map<String, INDArray> feed = DistillGradientCheckTest.feed(g);
    KdMapping mapping = KdMapping.of(DistillGradientCheckTest.TEACHER, DistillGradientCheckTest.STUDENT, Map.of());
    double[] rows = feed.get(PretrainGraph.KD_ROWS).toDoubleVector();
    assertTrue(java.util.Arrays.stream(rows).sum() > 0 && java.util.Arrays.stream(rows).sum() < rows.length,
        "some matched rows, some swapped");

    // ---- attention: scores with padded keys zeroed, head-averaged (1 student head, 2 teacher heads), × L_k, × w_stack
    List<String[]> pairs = new ArrayList<>(); // student name, teacher name, stack, keys are text
    for (Stack st : Stack.ENCODERS) {
      int[] m = mapping.attention().get(st);
      for (int j = 0; j < m.length; j++) {
        int t = m[j];
        switch (st) {
          case VISION -> pairs.add(new String[] {Names.visionAttn(j), Names.visionAttn(t), st.name(), "image"});
          case TEXT -> pairs.add(new String[] {Names.textAttn(j), Names.textAttn(t), st.name(), "text"});
          case FUSION_TEXT -> {
            pairs.add(new String[] {Names.fusionSelfAttn("text", j), Names.fusionSelfAttn("text", t), st.name(), "text"});
            pairs.add(new String[] {Names.fusionCrossAttn("text", j), Names.fusionCrossAttn("text", t), st.name(), "image"});
          }
          case FUSION_IMAGE -> {
            pairs.add(new String[] {Names.fusionSelfAttn("image", j), Names.fusionSelfAttn("image", t), st.name(), "image"});
            pairs.add(new String[] {Names.fusionCrossAttn("image", j), Names.fusionCrossAttn("image", t), st.name(), "text"});
          }
        }
      }
    }
    List<String> wanted = new ArrayList<>(List.of("loss/attn", "loss/hid", "loss/mlm_kd", "loss/itm_kd", "mlm/" + Names.MLM_LOGITS,
        "itm/" + Names.ITM_LOGITS));
    for (String[] p : pairs) wanted.add("itm/" + Names.scores(p[0]));
    for (Stack st : Stack.ENCODERS) {
      for (int i = 0; i < mapping.hidden().get(st).length; i++) wanted.add("itm/" + hiddenName(st, i));
    }
    Map<String, INDArray> out = g.sd().output(feed, wanted.toArray(new String[0]));
    double[][] textMask = feed.get("itm/" + Names.TEXT_MASK).toDoubleMatrix();

    double attn = 0;
    for (String[] p : pairs) {
      INDArray s = out.get("itm/" + Names.scores(p[0])); // [B, 1, Lq, Lk]
      INDArray t = feed.get("kd/" + Names.scores(p[1])); // [B, 2, Lq, Lk]
      int b = (int) s.size(0), lq = (int) s.size(2), lk = (int) s.size(3);
      assertEquals(1, s.size(1));
      assertEquals(2, t.size(1));
      double num = 0, den = 0;
      for (int r = 0; r < b; r++) {
        double se = 0;
        for (int q = 0; q < lq; q++) {
          for (int k = 0; k < lk; k++) {
            double keep = p[3].equals("text") ? textMask[r][k] : 1;
            double sv = s.getDouble(r, 0, q, k) * keep;
            double tv = (t.getDouble(r, 0, q, k) + t.getDouble(r, 1, q, k)) / 2 * keep;
            se += (sv - tv) * (sv - tv);
          }
        }
        num += rows[r] * se / (lq * lk);
        den += rows[r];
      }
      attn += num / Math.max(den, 1) * lk * kd.attentionWeights().get(Stack.valueOf(p[2]));
    }
    assertEquals(attn, out.get("loss/attn").getDouble(0), 1e-10 * attn, "loss/attn");

    // ---- hidden states: through the learned width projection, MSE per matched row, × w_stack
    double hid = 0;
    for (Stack st : Stack.ENCODERS) {
      int[] m = mapping.hidden().get(st);
      INDArray proj = g.sd().getArrForVarName("distill." + st.label() + ".proj.weight"); // [16, 32]
      for (int i = 0; i < m.length; i++) {
        INDArray h = out.get("itm/" + hiddenName(st, i)); //       [B, L, 16]
        INDArray t = feed.get("kd/" + hiddenName(st, m[i])); //    [B, L, 32]
        double num = 0, den = 0;
        for (int r = 0; r < h.size(0); r++) {
          INDArray hp = h.slice(r).mmul(proj); //                   [L, 32]
          double se = 0;
          for (int l = 0; l < hp.size(0); l++) {
            for (int d = 0; d < hp.size(1); d++) se += Math.pow(hp.getDouble(l, d) - t.getDouble(r, l, d), 2);
          }
          num += rows[r] * se / hp.length();
          den += rows[r];
        }
        hid += num / Math.max(den, 1) * kd.hiddenWeights().get(st);
      }
    }
    assertEquals(hid, out.get("loss/hid").getDouble(0), 1e-10 * hid, "loss/hid");

    // ---- MLM logit KD: KL at T = 2 on the masked positions
    INDArray sm = out.get("mlm/" + Names.MLM_LOGITS), tm = feed.get("kd/mlm/" + Names.MLM_LOGITS); // [B, Lt, V]
    double[][] w = feed.get(PretrainGraph.MLM_WEIGHTS).toDoubleMatrix();
    double num = 0, den = 0;
    for (int r = 0; r < sm.size(0); r++) {
      for (int i = 0; i < sm.size(1); i++) {
        if (w[r][i] == 0) continue;
        num += w[r][i] * kl(tm.slice(r).getRow(i).toDoubleVector(), sm.slice(r).getRow(i).toDoubleVector(), kd.temperature());
        den += w[r][i];
      }
    }
    assertTrue(den > 0, "some masked positions");
    assertEquals(num / den, out.get("loss/mlm_kd").getDouble(0), 1e-10 * num / den, "loss/mlm_kd");

    // ---- ITM logit KD: KL at T = 2 on every ITM pair
    INDArray si = out.get("itm/" + Names.ITM_LOGITS), ti = feed.get("kd/itm/" + Names.ITM_LOGITS); // [B, 2]
    double itm = 0;
    for (int r = 0; r < si.size(0); r++) itm += kl(ti.getRow(r).toDoubleVector(), si.getRow(r).toDoubleVector(), kd.temperature());
    itm /= si.size(0);
    assertEquals(itm, out.get("loss/itm_kd").getDouble(0), 1e-10 * itm, "loss/itm_kd");
    assertEquals(RunConfig.AttentionForm.SCORES, kd.attention());
  }

  private static String hiddenName(Stack st, int i) {
    return switch (st) {
      case VISION -> Names.visionHidden(i);
      case TEXT -> Names.textHidden(i);
      case FUSION_TEXT -> Names.fusionHidden("text", i);
      case FUSION_IMAGE -> Names.fusionHidden("image", i);
      case MIM_DECODER -> throw new AssertionError("not distilled");
    };
  }

  /** KL(softmax(t/T) ‖ softmax(s/T)). */
  private static double kl(double[] t, double[] s, double temp) {
    double[] p = softmax(t, temp), q = softmax(s, temp);
    double v = 0;
    for (int k = 0; k < p.length; k++) v += p[k] * Math.log(p[k] / q[k]);
    return v;
  }

  private static double[] softmax(double[] x, double temp) {
    return KdLossesTest.softmax(x, temp);
  }
}
