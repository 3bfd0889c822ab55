package org.m3ae.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.m3ae.cli.Main;
import org.m3ae.train.ComputeThreads;
import org.m3ae.model.ModelConfig;
import org.m3ae.model.Names;
import org.m3ae.model.RandomInputs;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Graphs saved by {@code import} and {@code init-student} are loaded with {@code SameDiff.load} in
 * a fresh JVM whose classpath holds ND4J and nothing of this project (no project classes, no
 * importer, CLI, tokenizer or ONNX Runtime jars), fed by the documented placeholder names, and must
 * reproduce this JVM's outputs bit for bit.
 */
class FreshJvmLoadTest {

  @TempDir Path dir;

  private static final String CHILD = """
      import java.io.File;
      import java.util.HashMap;
      import java.util.Map;
      import org.nd4j.autodiff.samediff.SameDiff;
      import org.nd4j.linalg.api.ndarray.INDArray;
      import org.nd4j.linalg.factory.Nd4j;

      public class LoadAndRun {
        // args: model.sdz out.npy outputName placeholder=file.npy ...
        public static void main(String[] a) throws Exception {
          String blas = System.getenv("BLAS_THREADS");
          if (blas != null) Nd4j.factory().blas().setMaxThreads(Integer.parseInt(blas));
          SameDiff sd = SameDiff.load(new File(a[0]), false);
          Map<String, INDArray> in = new HashMap<>();
          for (int i = 3; i < a.length; i++) {
            String[] kv = a[i].split("=", 2);
            in.put(kv[0], Nd4j.createFromNpyFile(new File(kv[1])));
          }
          Nd4j.writeAsNumpy(sd.output(in, a[2]).get(a[2]), new File(a[1]));
        }
      }
      """;

  /** This JVM's classpath minus the project and every non-ND4J library it uses. */
  private static String nd4jOnlyClasspath() {
    List<String> drop = List.of("/target/classes", "/target/test-classes", "/scratch/", "/info/picocli/",
        "/ai/djl/", "/com/microsoft/onnxruntime/", "/dev/langchain4j/", "/org/datavec/", "/org/deeplearning4j/",
        "/org/junit/", "/org/opentest4j/", "/org/apiguardian/", "/me/tongfei/", "samediff-import");
    return Stream.of(System.getProperty("java.class.path").split(File.pathSeparator))
        .filter(e -> drop.stream().noneMatch(e::contains))
        .collect(Collectors.joining(File.pathSeparator));
  }

  private INDArray runChild(Path model, String output, Map<String, INDArray> inputs) throws Exception {
    Path src = dir.resolve("child");
    Files.createDirectories(src);
    String cp = nd4jOnlyClasspath();
    if (!Files.exists(src.resolve("LoadAndRun.class"))) {
      Files.writeString(src.resolve("LoadAndRun.java"), CHILD);
      JavaCompiler jc = ToolProvider.getSystemJavaCompiler();
      assertEquals(0, jc.run(null, null, null, "-cp", cp, "-d", src.toString(),
          src.resolve("LoadAndRun.java").toString()));
    }
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", src + File.pathSeparator + cp, "LoadAndRun", model.toString(),
        dir.resolve("out.npy").toString(), output));
    for (Map.Entry<String, INDArray> e : inputs.entrySet()) {
      Path f = dir.resolve(e.getKey().replace('/', '_') + ".npy");
      Nd4j.writeAsNumpy(e.getValue(), f.toFile());
      cmd.add(e.getKey() + "=" + f);
    }
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("child.log").toFile());
    // Bit-identical only under the same thread counts (split reductions and products sum in another order): the
    // child runs with this JVM's, the CLI's defaults that Main applied. libnd4j and libgomp read these at start;
    // ND4J then sets OpenBLAS's count to its own, so the child sets that one through ND4J (BLAS_THREADS).
    String ops = Integer.toString(ComputeThreads.opThreads());
    pb.environment().put("SD_MAX_THREADS", ops);
    pb.environment().put("SD_MASTER_THREADS", ops);
    pb.environment().put("OMP_NUM_THREADS", ops);
    pb.environment().put("BLAS_THREADS", Integer.toString(ComputeThreads.blasThreads()));
    Process p = pb.start();
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child timed out");
    assertEquals(0, p.exitValue(), () -> read(dir.resolve("child.log")));
    return Nd4j.createFromNpyFile(dir.resolve("out.npy").toFile());
  }

  private static String read(Path p) {
    try {
      return Files.readString(p);
    } catch (IOException e) {
      return e.toString();
    }
  }

  @Test
  void importedAndStudentGraphsReloadBitIdentically() throws Exception {
    ModelConfig tc = ModelConfig.load(Path.of("configs/models/tiny-teacher.yaml"));
    Path ckpt = dir.resolve("ckpt.safetensors");
    CheckpointValues.write(M3aeCheckpointKeys.of(tc, tc.vision().gridSize()), ckpt);
    Path teacher = dir.resolve("teacher.sdz");
    Path student = dir.resolve("student.sdz");
    assertEquals(0, Main.commandLine().execute("import", "--config", "configs/models/tiny-teacher.yaml",
        "--weights", ckpt.toString(), "--out", teacher.toString()));
    assertEquals(0, Main.commandLine().execute("init-student", "--teacher", teacher.toString(),
        "--config", "configs/models/tiny-student.yaml", "--out", student.toString()));

    // the teacher as imported in this JVM (same checkpoint, same code path as the command)
    WeightImport.Result mem = WeightImport.run(tc, ckpt, null, null);
    Map<String, INDArray> in = RandomInputs.forPass(mem.graph(), mem.graph().pass(""), 2, 11);
    INDArray expected = mem.graph().sd().output(in, Names.JOINT).get(Names.JOINT);
    INDArray got = runChild(teacher, Names.JOINT, in);
    assertArrayEquals(expected.shape(), got.shape());
    assertArrayEquals(expected.data().asFloat(), got.data().asFloat(), 0f, "teacher joint feature");
    // the imported weights really are in the saved file (not a re-randomised graph)
    INDArray fromCkpt = Nd4j.create(CheckpointValues.of("itm_head.fc.bias", new long[] {2}));
    assertArrayEquals(fromCkpt.data().asFloat(),
        SameDiff.load(teacher.toFile(), false).getVariable("itm_head.fc.bias").getArr().data().asFloat(), 0f);

    SameDiff st = SameDiff.load(student.toFile(), false);
    INDArray se = st.output(in, Names.JOINT).get(Names.JOINT);
    INDArray sg = runChild(student, Names.JOINT, in);
    assertArrayEquals(se.data().asFloat(), sg.data().asFloat(), 0f, "student joint feature");
    // and the student's mapped weights are the teacher's
    assertArrayEquals(
        SameDiff.load(teacher.toFile(), false).getVariable("multi_modal_vision_layers.1.output.dense.weight").getArr().data().asFloat(),
        st.getVariable("multi_modal_vision_layers.0.output.dense.weight").getArr().data().asFloat(), 0f);
  }
}
