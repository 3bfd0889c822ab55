package org.m3ae.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.m3ae.model.ModelConfig;
import org.m3ae.weights.WeightImport;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.m3ae.testing.Exact;

/**
 * The commands take a PyTorch-written Lightning .ckpt (src/test/resources/ckpt) where they took converted safetensors:
 * {@code import} saves the graph, and {@code init-student --teacher x.ckpt} imports it into --teacher-config first.
 */
class CkptCommandsTest {
  private static final String CONFIG = "src/test/resources/ckpt/micro-m3ae.yaml";
  private static final String CKPT = "src/test/resources/ckpt/micro-m3ae-lightning.ckpt";

  @Test
  void importAndInitStudentTakeTheCheckpoint(@TempDir Path dir) {
    Path imported = dir.resolve("teacher.sdz");
    Path student = dir.resolve("student.sdz");
    assertEquals(0, Main.commandLine().execute("import", "--config", CONFIG, "--weights", CKPT, "--out",
        imported.toString()));
    assertEquals(0, Main.commandLine().execute("init-student", "--teacher", CKPT, "--teacher-config", CONFIG,
        "--config", CONFIG, "--out", student.toString()));

    SameDiff expected = WeightImport.run(ModelConfig.load(Path.of(CONFIG)), Path.of(CKPT), null, null).graph().sd();
    int n = 0;
    for (SameDiff got : new SameDiff[] {SameDiff.load(imported.toFile(), false), SameDiff.load(student.toFile(), false)}) {
      for (SDVariable v : expected.variables()) {
        if (v.getVariableType() != VariableType.VARIABLE) continue;
        // same config on both sides: the student takes every teacher layer, so every weight must match
        Exact.assertBitEqual(v.getArr(), got.getVariable(v.name()).getArr(), v.name());
        n++;
      }
    }
    assertTrue(n > 300, n + " variables compared");
  }
}
