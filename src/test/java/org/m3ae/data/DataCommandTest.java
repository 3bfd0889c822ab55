package org.m3ae.data;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.m3ae.cli.Main;
import picocli.CommandLine;
import org.m3ae.testing.Edits;

/** {@code data synth | inspect | bench} in-process, as a user runs them. */
class DataCommandTest {

  record Run(int code, String out, String err) {}

  static Run run(String... args) {
    CommandLine cl = Main.commandLine();
    StringWriter out = new StringWriter(), err = new StringWriter();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int code = cl.execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  @Test
  void synthThenInspectAndBenchWithRootOverride(@TempDir Path dir) throws Exception {
    Path root = dir.resolve("syn");
    Run s = run("data", "synth", "--out", root.toString(), "--n", "25", "--seed", "2");
    assertEquals(0, s.code(), s.err());
    Run i = run("data", "inspect", "--pipeline", "data-pipelines/synthetic-vqa.yaml", "--root", root.toString(), "--json", "--report-dir", dir.resolve("rep").toString());
    assertEquals(0, i.code(), i.err());
    JsonNode doc = new ObjectMapper().readTree(i.out());
    long trainQ = new ObjectMapper().readTree(root.resolve("vqa_train.json").toFile()).size();
    assertEquals(trainQ, doc.at("/splits/train/records").asLong());
    assertEquals(17, doc.at("/splits/train/images").asInt()); // 25 less 5 test, 3 val
    long closed = 0;
    for (JsonNode q : new ObjectMapper().readTree(root.resolve("vqa_test.json").toFile())) if (q.get("answer_type").asText().equals("CLOSED")) closed++;
    assertEquals(closed, doc.at("/splits/test/closed").asLong());
    assertTrue(Files.isRegularFile(dir.resolve("rep/bad-records.json")));
    Run b = run("data", "bench", "--pipeline", "data-pipelines/synthetic.yaml", "--root", root.toString(), "--batch-size", "4", "--batches", "3", "--image-size", "32", "--json");
    assertEquals(0, b.code(), b.err());
    JsonNode bj = new ObjectMapper().readTree(b.out().lines().findFirst().orElseThrow());
    assertEquals(3, bj.get("batches").asInt());
    assertEquals(12, bj.get("pairs").asInt());
    assertTrue(bj.get("pairs_per_s").asDouble() > 0);
  }

  @Test
  void errorsAreOneLineMessagesNamingTheProblem(@TempDir Path dir) throws Exception {
    Run r = run("data", "inspect", "--pipeline", dir.resolve("none.yaml").toString());
    assertEquals(2, r.code());
    assertTrue(r.err().startsWith("error: pipeline file not found"), r.err());
    Path bad = dir.resolve("bad.yaml");
    Files.writeString(bad, Edits.replaceOnce(Files.readString(Path.of("data-pipelines/synthetic.yaml")), "format: jsonl", "format: jsonl\nshufle: true"));
    r = run("data", "inspect", "--pipeline", bad.toString());
    assertTrue(r.err().contains("unknown key 'shufle'") && r.err().contains("bad.yaml line "), r.err());
    r = run("data", "inspect", "--pipeline", "data-pipelines/synthetic.yaml", "--root", dir.resolve("missing").toString());
    assertTrue(r.err().startsWith("error: dataset root not found"), r.err());
    r = run("data", "inspect", "--pipeline", "data-pipelines/synthetic.yaml", "--on-bad-record", "ignore");
    assertTrue(r.err().contains("--on-bad-record must be skip or fail"), r.err());
  }
}
