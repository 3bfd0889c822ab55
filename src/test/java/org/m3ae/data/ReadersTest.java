package org.m3ae.data;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.m3ae.data.config.PipelineConfig;
import org.m3ae.data.config.PipelineLoader;
import org.m3ae.data.pipeline.DataPipeline;
import org.m3ae.testing.Edits;

/** Every dataset format on fixtures written here, every bad-input case, and the shared data's counts. */
class ReadersTest {

  static final String TOK = "tokenizer: {file: \"embedded:synthetic\", style: bert, max_length: 16}\nimage: {size: 32}\n";

  static PipelineConfig yaml(Path dir, String body) throws Exception {
    Path f = dir.resolve("p.yaml");
    Files.writeString(f, body + TOK);
    return PipelineLoader.load(f);
  }

  static Path medpixFixture(Path root) throws Exception {
    Fixtures.jpeg(root.resolve("images/a.jpg"), 40, 30, 1);
    Fixtures.jpeg(root.resolve("images/b2.jpg"), 30, 40, 2);
    Fixtures.jpeg(root.resolve("images/b.jpg"), 30, 40, 2);
    Fixtures.jpeg(root.resolve("images/c.jpg"), 30, 40, 2);
    Fixtures.truncatedJpeg(root.resolve("images/cut.jpg"));
    Fixtures.gif(root.resolve("images/gif.jpg"));
    Files.writeString(root.resolve("train.jsonl"), String.join("\n",
        "{\"image\":\"a\",\"Description\":{\"Caption\":\"CT shows a  mass.\"}}",
        "{bad json",
        "{\"image\":\"b\",\"Description\":{}}",
        "{\"image\":\"c\",\"Description\":{\"Caption\":\"  \\t \"}}",
        "{\"image\":\"missing\",\"Description\":{\"Caption\":\"x y\"}}",
        "{\"image\":\"cut\",\"Description\":{\"Caption\":\"x y\"}}",
        "{\"image\":\"gif\",\"Description\":{\"Caption\":\"x y\"}}",
        "",
        "{\"image\":\"b2\",\"Description\":{\"Caption\":\"MRI of the head\"}}") + "\n");
    return root;
  }

  static final String MEDPIX = "name: m\ntask: pairs\nroot: %s\nformat: jsonl\nsplits: {train: {files: [train.jsonl]}}\n"
      + "fields: {image: image, text: Description.Caption}\nimages: {dir: images, pattern: \"{image}.jpg\"}\n";

  @Test
  void jsonlPairsSkipEveryBadRecordByReasonWithFileAndLine(@TempDir Path dir) throws Exception {
    Path root = medpixFixture(dir.resolve("medpix"));
    PipelineConfig cfg = yaml(dir, String.format(MEDPIX, root));
    try (DataPipeline p = DataPipeline.open(cfg, BadRecordPolicy.SKIP)) {
      List<DataRecord> rs = p.records("train");
      assertEquals(List.of("a", "b2"), rs.stream().map(DataRecord::id).toList());
      assertEquals("CT shows a mass.", rs.get(0).text());
      assertEquals(root.resolve("train.jsonl") + ":9", rs.get(1).location());
      SkipReport r = p.report();
      for (BadRecordReason reason : List.of(BadRecordReason.MALFORMED_RECORD, BadRecordReason.MISSING_FIELD, BadRecordReason.EMPTY_TEXT,
          BadRecordReason.MISSING_IMAGE, BadRecordReason.CORRUPT_IMAGE, BadRecordReason.UNSUPPORTED_IMAGE_FORMAT))
        assertEquals(1, r.count("train", reason), reason.name());
      assertEquals(6, r.total("train"));
      String summary = r.summary();
      assertTrue(summary.contains("train.jsonl:2"), summary);
      assertTrue(summary.contains("missing field 'Description.Caption'"), summary);
      Path written = r.write(dir.resolve("run"));
      assertTrue(Files.readString(written).contains("\"malformed_record\" : 1"));
    }
  }

  @Test
  void failPolicyStopsAtTheFirstBadRecordNamingFileAndLine(@TempDir Path dir) throws Exception {
    Path root = medpixFixture(dir.resolve("medpix"));
    try (DataPipeline p = DataPipeline.open(yaml(dir, String.format(MEDPIX, root)), BadRecordPolicy.FAIL)) {
      BadRecordException e = assertThrows(BadRecordException.class, () -> p.records("train"));
      assertEquals(BadRecordReason.MALFORMED_RECORD, e.reason());
      assertTrue(e.getMessage().startsWith(root.resolve("train.jsonl") + ":2: malformed record"), e.getMessage());
    }
  }

  @Test
  void vqaJsonNormalisesAnswersKeepsTypesAndChecksTheVocabulary(@TempDir Path dir) throws Exception {
    Path root = dir.resolve("vqa");
    Fixtures.jpeg(root.resolve("images/s1.jpg"), 20, 20, 1);
    Files.writeString(root.resolve("train.json"), "[\n"
        + "{\"qid\": 1, \"image_name\": \"s1.jpg\", \"question\": \"Is it?\", \"answer\": \"Yes\", \"answer_type\": \"CLOSED\"},\n"
        + "{\"qid\": 2, \"image_name\": \"s1.jpg\", \"question\": \"How many?\", \"answer\": 5, \"answer_type\": \"OPEN\"},\n"
        + "{\"qid\": 3, \"image_name\": \"s1.jpg\", \"question\": \"Where?\", \"answer\": \"The left lung.\", \"answer_type\": \"open\"},\n"
        + "{\"qid\": 4, \"image_name\": \"s1.jpg\", \"question\": \"Odd?\", \"answer\": \"no\", \"answer_type\": \"MAYBE\"},\n"
        + "{\"qid\": 5, \"image_name\": \"s1.jpg\", \"answer\": \"no\", \"answer_type\": \"CLOSED\"}\n]");
    Files.writeString(root.resolve("test.json"), "[\n"
        + "{\"qid\": 6, \"image_name\": \"s1.jpg\", \"question\": \"Where?\", \"answer\": \"right lung\", \"answer_type\": \"OPEN\"},\n"
        + "{\"qid\": 7, \"image_name\": \"s1.jpg\", \"question\": \"Is it?\", \"answer\": \"yes\", \"answer_type\": \"CLOSED\"}\n]");
    String body = "name: v\ntask: vqa\nroot: " + root + "\nformat: json\nsplits: {train: {files: [train.json]}, test: {files: [test.json]}}\n"
        + "fields: {id: qid, image: image_name, text: question, answer: answer, answer_type: answer_type}\nimages: {dir: images}\n"
        + "vqa: {vocab_splits: [train]}\n";
    try (DataPipeline p = DataPipeline.open(yaml(dir, body), BadRecordPolicy.SKIP)) {
      List<DataRecord> tr = p.records("train");
      assertEquals(List.of("yes", "5", "left lung"), tr.stream().map(DataRecord::answer).toList());
      assertEquals(List.of(true, false, false), tr.stream().map(DataRecord::closed).toList());
      assertEquals(1, p.report().count("train", BadRecordReason.MALFORMED_RECORD));
      assertEquals(1, p.report().count("train", BadRecordReason.MISSING_FIELD));
      assertTrue(p.report().summary().contains("train.json:5"), p.report().summary());
      assertEquals(List.of("5", "left lung", "yes"), p.answerVocabulary().answers());
      assertEquals(List.of("7"), p.records("test").stream().map(DataRecord::id).toList());
      assertEquals(1, p.report().count("test", BadRecordReason.ANSWER_NOT_IN_VOCABULARY));
    }
    Files.writeString(root.resolve("test.json"), "[\n{\"qid\": 6, \"image_name\": \"s1.jpg\",\n \"question\": \"Where?\" \"answer\": 1}\n]");
    try (DataPipeline p = DataPipeline.open(yaml(dir, body), BadRecordPolicy.SKIP)) {
      assertEquals(0, p.rawRecords("test").size());
      assertTrue(p.report().summary().contains("test.json:3"), p.report().summary());
    }
  }

  @Test
  void rocoTabCaptionsWithWordFilterAndSeededCap(@TempDir Path dir) throws Exception {
    Path root = dir.resolve("roco");
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 12; i++) {
      Fixtures.jpeg(root.resolve("test/radiology/images/ROCO_" + i + ".jpg"), 16, 16, i);
      sb.append("ROCO_").append(i).append('\t').append(i == 3 ? " two words" : " Computed tomography \"scan\" number " + i).append('\n');
    }
    Files.createDirectories(root.resolve("test/radiology"));
    Files.writeString(root.resolve("test/radiology/captions.txt"), sb.toString());
    String body = "name: r\ntask: retrieval\nroot: " + root + "\nformat: delimited\ndelimited: {delimiter: \"\\\\t\", columns: [id, caption]}\n"
        + "splits: {test: {files: [\"{split}/radiology/captions.txt\"], image_dir: \"{split}/radiology/images\"}}\n"
        + "fields: {id: id, image: id, text: caption}\nmin_words: 3\nmax_records: {test: 5}\nshuffle_seed: 42\nimages: {dir: images, pattern: \"{image}.jpg\"}\n";
    try (DataPipeline p = DataPipeline.open(yaml(dir, body), BadRecordPolicy.FAIL)) {
      List<DataRecord> rs = p.records("test");
      assertEquals(5, rs.size());
      assertTrue(rs.stream().noneMatch(r -> r.id().equals("ROCO_3")));
      assertTrue(rs.get(0).text().startsWith("Computed tomography \"scan\""), rs.get(0).text());
      assertEquals(1, p.report().count("test", BadRecordReason.FILTERED));
      try (DataPipeline q = DataPipeline.open(yaml(dir, body), BadRecordPolicy.FAIL)) {
        assertEquals(rs, q.records("test"));
      }
    }
  }

  @Test
  void slakeKeepsEnglishQuestionsOnly(@TempDir Path dir) throws Exception {
    Path root = dir.resolve("slake");
    Fixtures.jpeg(root.resolve("imgs/xmlab1/source.jpg"), 16, 16, 1);
    Files.writeString(root.resolve("train.json"), "[{\"qid\":1,\"img_name\":\"xmlab1/source.jpg\",\"question\":\"Which organ?\",\"answer\":\"Liver\",\"answer_type\":\"OPEN\",\"q_lang\":\"en\"},"
        + "{\"qid\":2,\"img_name\":\"xmlab1/source.jpg\",\"question\":\"哪个器官?\",\"answer\":\"肝脏\",\"answer_type\":\"OPEN\",\"q_lang\":\"zh\"}]");
    String body = "name: s\ntask: vqa\nroot: " + root + "\nformat: json\nsplits: {train: {files: [train.json]}}\n"
        + "fields: {id: qid, image: img_name, text: question, answer: answer, answer_type: answer_type}\nfilter: {q_lang: en}\nimages: {dir: imgs}\n";
    try (DataPipeline p = DataPipeline.open(yaml(dir, body), BadRecordPolicy.FAIL)) {
      assertEquals(List.of("liver"), p.records("train").stream().map(DataRecord::answer).toList());
      assertEquals(1, p.report().count("train", BadRecordReason.FILTERED));
      assertEquals(0, p.report().total("train"));
    }
  }

  @Test
  void vqaMed2019PipeFilesPerCategoryAllOpen(@TempDir Path dir) throws Exception {
    Path root = dir.resolve("med");
    Fixtures.jpeg(root.resolve("train/images/synpic1.jpg"), 16, 16, 1);
    Fixtures.jpeg(root.resolve("train/images/synpic2.jpg"), 16, 16, 2);
    Files.createDirectories(root.resolve("train/QA"));
    Files.writeString(root.resolve("train/QA/Modality.csv"), "synpic1|what modality is shown?|ct w/contrast (iv)\nsynpic2|broken line\n");
    Files.writeString(root.resolve("train/QA/Plane.csv"), "synpic2|which plane is this image taken?|axial\n");
    String body = "name: q\ntask: vqa\nroot: " + root + "\nformat: delimited\ndelimited: {delimiter: \"|\", columns: [image, question, answer]}\n"
        + "splits: {train: {files: [\"{split}/QA/Modality.csv\", \"{split}/QA/Plane.csv\"], image_dir: \"{split}/images\"}}\n"
        + "fields: {image: image, text: question, answer: answer}\nconstants: {answer_type: OPEN}\nimages: {dir: images, pattern: \"{image}.jpg\"}\n";
    try (DataPipeline p = DataPipeline.open(yaml(dir, body), BadRecordPolicy.SKIP)) {
      List<DataRecord> rs = p.records("train");
      // normalize_word: "/" and "(" ")" become spaces, so "ct w/contrast (iv)" -> "ct w contrast iv".
      assertEquals(List.of("ct w contrast iv", "axial"), rs.stream().map(DataRecord::answer).toList());
      assertTrue(rs.stream().allMatch(r -> Boolean.FALSE.equals(r.closed())));
      assertEquals(1, p.report().count("train", BadRecordReason.MALFORMED_RECORD));
      assertTrue(p.report().summary().contains("Modality.csv:2"), p.report().summary());
    }
  }

  @Test
  void melindaCsvWithHeaderQuotedCommasAndSortedLabels(@TempDir Path dir) throws Exception {
    Path root = dir.resolve("mel");
    for (String f : List.of("f1.jpg", "f2.jpg", "f3.jpg")) Fixtures.jpeg(root.resolve("figures/" + f), 16, 16, f.hashCode());
    Files.writeString(root.resolve("train.csv"), "figure_file,caption,i_meth,p_meth,i_meth_label,p_meth_label\n"
        + "f1.jpg,\"Western blot, lanes 1-3\",a,b,c,Western\n" + "f2.jpg,Confocal image of cells,a,b,c,Microscopy\n");
    Files.writeString(root.resolve("test.csv"), "figure_file,caption,i_meth,p_meth,i_meth_label,p_meth_label\nf3.jpg,CT scan of the chest,a,b,c,CT\n");
    String body = "name: mel\ntask: classification\nroot: " + root + "\nformat: delimited\ndelimited: {delimiter: \",\", quote: \"\\\"\", header: true}\n"
        + "splits: {train: {files: [train.csv]}, test: {files: [test.csv]}}\nfields: {image: figure_file, text: caption, label: p_meth_label}\nimages: {dir: figures}\n";
    try (DataPipeline p = DataPipeline.open(yaml(dir, body), BadRecordPolicy.FAIL)) {
      List<DataRecord> rs = p.records("train");
      assertEquals("Western blot, lanes 1-3", rs.get(0).text());
      assertEquals(root.resolve("train.csv") + ":2", rs.get(0).location());
      assertEquals(Map.of("CT", 0, "Microscopy", 1, "Western", 2), p.classLabels());
    }
  }

  @Test
  void configMistakesNameFileLineAndKey(@TempDir Path dir) throws Exception {
    String ok = String.format(MEDPIX, dir);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> yaml(dir, ok + "splitz: {}\n"));
    assertTrue(e.getMessage().contains("p.yaml line 8") && e.getMessage().contains("unknown key 'splitz'"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> yaml(dir, Edits.replaceOnce(ok, "images: {dir: images,", "images: {dri: images,")));
    // Jackson checks required keys first: the typo shows up as the key it hides.
    assertTrue(e.getMessage().contains("missing key 'images.dir'"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> yaml(dir, Edits.replaceOnce(ok, "images: {dir: images,", "images: {dir: images, size: 3,")));
    assertTrue(e.getMessage().contains("line 7: unknown key 'images.size'"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> yaml(dir, Edits.replaceOnce(ok, "task: pairs", "task: captions")));
    assertTrue(e.getMessage().contains("line 2") && e.getMessage().contains("'task'") && e.getMessage().contains("allowed"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> yaml(dir, Edits.replaceOnce(ok, "format: jsonl\n", "")));
    assertTrue(e.getMessage().contains("missing key 'format'"), e.getMessage());
    // the removed GPT-2-shifted mode says what to use instead
    Path old = dir.resolve("old.yaml");
    Files.writeString(old, ok + Edits.replaceOnce(TOK, "style: bert,", "style: bert, gpt2_to_roberta: true,"));
    e = assertThrows(IllegalArgumentException.class, () -> org.m3ae.data.config.PipelineLoader.load(old));
    assertTrue(e.getMessage().contains("old.yaml") && e.getMessage().contains("'tokenizer.gpt2_to_roberta' was removed")
        && e.getMessage().contains("roberta-base.tokenizer.json"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> yaml(dir, Edits.replaceOnce(ok, "text: Description.Caption", "txt: Description.Caption")));
    assertTrue(e.getMessage().contains("fields."), e.getMessage());
  }

  @Test
  void everyShippedPipelineDefinitionLoads() throws Exception {
    try (Stream<Path> s = Files.list(Path.of("data-pipelines"))) {
      List<Path> files = s.filter(f -> f.toString().endsWith(".yaml")).sorted().toList();
      assertTrue(files.size() >= 7, files.toString());
      for (Path f : files) assertNotNull(PipelineLoader.load(f).name(), f.toString());
    }
  }

  @Test
  void sharedDataCountsMatchTheReadme() throws Exception {
    Fixtures.requireShared("medpix");
    Fixtures.requireShared("vqa-rad");
    try (DataPipeline p = DataPipeline.open(PipelineLoader.load(Path.of("data-pipelines/medpix.yaml")), BadRecordPolicy.FAIL)) {
      assertEquals(1653, p.records("train").size());
      assertEquals(197, p.records("dev").size());
    }
    try (DataPipeline p = DataPipeline.open(PipelineLoader.load(Path.of("data-pipelines/vqa-rad.yaml")), BadRecordPolicy.FAIL)) {
      assertEquals(3064, p.records("train").size());
      List<DataRecord> test = p.records("test");
      assertEquals(451, test.size());
      assertEquals(272, test.stream().filter(r -> r.closed()).count());
      assertEquals(179, test.stream().filter(r -> !r.closed()).count());
      // SPEC §2.5: M3AE's VQA-RAD head has 498 answers (vocabulary over train+test).
      assertEquals(498, p.answerVocabulary().size());
    }
  }
}
