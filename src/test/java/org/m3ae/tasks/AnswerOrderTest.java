package org.m3ae.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.m3ae.data.BadRecordPolicy;
import org.m3ae.data.DataRecord;
import org.m3ae.data.Fixtures;
import org.m3ae.data.config.PipelineLoader;
import org.m3ae.data.pipeline.Batch;
import org.m3ae.data.pipeline.BatchKeys;
import org.m3ae.data.pipeline.BatchOptions;
import org.m3ae.data.pipeline.DataPipeline;
import org.m3ae.data.pipeline.PrefetchingBatchIterator;
import org.m3ae.data.vqa.AnswerNormalizer;
import org.m3ae.data.vqa.AnswerOrder;
import org.m3ae.data.vqa.AnswerVocabulary;
import org.m3ae.model.ModelConfig;

/**
 * The VQA head's column order: {@code vqa.answer_order: sorted | first_appearance}. First appearance is the official
 * numbering ({@code make_arrow_vqa}: a {@code Counter} over the normalised answers of train, val, test in file order,
 * enumerated in insertion order), so a released fine-tuned head's column j names the j-th answer met.
 */
class AnswerOrderTest {

  // Raw answers as a dataset file holds them; the hand-worked normalised forms are in the expected maps below.
  static final String[] TRAIN = {"Yes", "No", "The brain", "yes", "Two", "axial", "no", "brain", "Lung", "chest x-ray"};
  static final String[] TEST = {"Liver", "yes", "2", "Axial"};

  /** Worked by hand: yes, no, brain (article dropped), 2 (number word), axial, lung, chest x ray ('-' → ' '), liver. */
  static final Map<String, Integer> FIRST_APPEARANCE = map("yes", "no", "brain", "2", "axial", "lung", "chest x ray", "liver");
  /** The same eight answers alphabetically ("2" sorts before letters). */
  static final Map<String, Integer> SORTED = map("2", "axial", "brain", "chest x ray", "liver", "lung", "no", "yes");

  static Map<String, Integer> map(String... answers) {
    Map<String, Integer> m = new LinkedHashMap<>();
    for (String a : answers) m.put(a, m.size());
    return m;
  }

  /** A two-split JSON VQA dataset with tiny images and a pipeline over it; {@code vqa} is the pipeline's vqa line. */
  static Path dataset(Path dir, String vqa) throws Exception {
    ObjectMapper om = new ObjectMapper();
    int qid = 0;
    for (var split : List.of(Map.entry("train", TRAIN), Map.entry("test", TEST))) {
      ArrayNode arr = om.createArrayNode();
      for (String a : split.getValue()) {
        ObjectNode q = arr.addObject();
        q.put("qid", qid);
        q.put("image_name", "img" + (qid % 3) + ".jpg");
        q.put("question", "question number " + qid + "?");
        q.put("answer", a);
        q.put("answer_type", a.equalsIgnoreCase("yes") || a.equalsIgnoreCase("no") ? "CLOSED" : "OPEN");
        qid++;
      }
      om.writeValue(dir.resolve(split.getKey() + ".json").toFile(), arr);
    }
    for (int i = 0; i < 3; i++) Fixtures.jpeg(dir.resolve("images/img" + i + ".jpg"), 40, 40, i);
    Path yaml = dir.resolve("pipeline.yaml");
    Files.writeString(yaml, String.join("\n",
        "name: order-test",
        "task: vqa",
        "root: " + dir,
        "format: json",
        "splits:",
        "  train: {files: [train.json]}",
        "  test: {files: [test.json]}",
        "fields: {id: qid, image: image_name, text: question, answer: answer, answer_type: answer_type}",
        "images: {dir: images}",
        "tokenizer: {file: \"embedded:synthetic\", style: bert, max_length: 16}",
        "image: {size: 32}",
        vqa, ""));
    return yaml;
  }

  static AnswerVocabulary vocabulary(Path pipeline) {
    try (DataPipeline p = DataPipeline.open(PipelineLoader.load(pipeline), BadRecordPolicy.FAIL)) {
      return p.answerVocabulary();
    }
  }

  @Test
  void firstAppearanceAndSortedNumberTheHandWorkedListsAsExpected(@TempDir Path dir) throws Exception {
    AnswerVocabulary first = vocabulary(dataset(dir, "vqa: {vocab_splits: [train, test], answer_order: first_appearance}"));
    assertEquals(FIRST_APPEARANCE, first.asMap());
    assertEquals(AnswerOrder.FIRST_APPEARANCE, first.order());
    AnswerVocabulary sorted = vocabulary(dataset(dir, "vqa: {vocab_splits: [train, test], answer_order: sorted}"));
    assertEquals(SORTED, sorted.asMap());
    // absent key: sorted, the numbering every run before the switch used
    assertEquals(SORTED, vocabulary(dataset(dir, "vqa: {vocab_splits: [train, test]}")).asMap());
    // the splits are visited in the listed order: test first meets liver, yes, 2, axial
    assertEquals(map("liver", "yes", "2", "axial", "no", "brain", "lung", "chest x ray"),
        vocabulary(dataset(dir, "vqa: {vocab_splits: [test, train], answer_order: first_appearance}")).asMap());
  }

  @Test
  void batchLabelsIndexTheFirstAppearanceColumns(@TempDir Path dir) throws Exception {
    Path pipeline = dataset(dir, "vqa: {vocab_splits: [train, test], answer_order: first_appearance}");
    try (DataPipeline p = DataPipeline.open(PipelineLoader.load(pipeline), BadRecordPolicy.FAIL);
        PrefetchingBatchIterator it = p.batches("train", BatchOptions.plain(), TRAIN.length, 0, 0, false, false, 1)) {
      Batch b = it.next();
      assertEquals(TRAIN.length, b.size());
      // file order kept (no shuffle): row i is TRAIN[i], its label the hand-worked column of its answer
      int[] expected = {0, 1, 2, 0, 3, 4, 1, 2, 5, 6};
      for (int i = 0; i < TRAIN.length; i++) {
        assertEquals(expected[i], b.get(BatchKeys.VQA_LABELS).getInt(i), "row " + i + " (" + TRAIN[i] + ")");
        assertEquals(1f, b.get(BatchKeys.VQA_TARGETS).getFloat(i, expected[i]), "row " + i);
      }
      assertEquals(TRAIN.length, b.get(BatchKeys.VQA_TARGETS).sumNumber().intValue());
    }
  }

  @Test
  void aCarvedValidationShareKeepsTheNumberingOfTheFiles(@TempDir Path dir) throws Exception {
    Path pipeline = dataset(dir, "vqa: {vocab_splits: [train, test], answer_order: first_appearance}");
    ModelConfig model = ModelConfig.load(Path.of(DemoFinetune.STUDENT_MODEL));
    TaskConfig tc = task(dir, pipeline, "first_appearance");
    try (TaskData td = TaskData.open(tc, model, dir.resolve("run"))) {
      assertEquals("val", td.val());
      assertEquals(FIRST_APPEARANCE, td.data().answerVocabulary().asMap());
      // The carve must have moved a first appearance for this to test anything: first appearance over the carved
      // splits as listed (train rest, test, val) is another numbering.
      LinkedHashSet<String> naive = new LinkedHashSet<>();
      for (String s : List.of(td.train(), td.test(), td.val())) for (DataRecord r : td.data().rawRecords(s)) naive.add(r.answer());
      assertNotEquals(new ArrayList<>(FIRST_APPEARANCE.keySet()), new ArrayList<>(naive), "seed 0 carve left every first appearance in place");
    }
    // the task config's data.answer_order overrides the pipeline's
    try (TaskData td = TaskData.open(task(dir, pipeline, "sorted"), model, dir.resolve("run2"))) {
      assertEquals(SORTED, td.data().answerVocabulary().asMap());
    }
  }

  static TaskConfig task(Path dir, Path pipeline, String order) throws Exception {
    Path f = dir.resolve("task-" + order + ".yaml");
    Files.writeString(f, String.join("\n",
        "name: order-task",
        "task: vqa",
        "model: " + DemoFinetune.STUDENT_MODEL,
        "data:",
        "  pipeline: " + pipeline,
        "  on_bad_record: fail",
        "  vocab_splits: [train, test]",
        "  answer_order: " + order,
        "  val_fraction: 0.3",
        "  val_seed: 0",
        "train: {epochs: 1, batch_size: 4, lr: 1.0e-4}", ""));
    return TaskConfig.load(f);
  }

  @Test
  void anUnknownOrderNamesTheFileTheKeyAndTheChoices(@TempDir Path dir) throws Exception {
    Path pipeline = dataset(dir, "vqa: {vocab_splits: [train, test], answer_order: alphabetical}");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PipelineLoader.load(pipeline));
    String m = e.getMessage();
    assertTrue(m.contains(pipeline.toString()) && m.contains("answer_order") && m.contains("alphabetical")
        && m.contains("sorted") && m.contains("first_appearance"), m);
  }

  /**
   * The shipped VQA-RAD pipeline numbers its 498 answers as the official preprocessing does. The reference is
   * computed here from the raw JSON (train, then test; M3AE's val is a copy of test, so it adds no answer), and its
   * head and tail are the labels Python's {@code normalize_word} gives on these files.
   */
  @Test
  void vqaRadAnswersFollowTheOfficialNumbering() throws Exception {
    Path root = Fixtures.requireShared("vqa-rad");
    LinkedHashSet<String> reference = new LinkedHashSet<>();
    ObjectMapper om = new ObjectMapper();
    for (String f : List.of("trainset.json", "testset.json")) {
      for (JsonNode q : om.readTree(root.resolve(f).toFile())) reference.add(AnswerNormalizer.normalize(q.get("answer").asText()));
    }
    List<String> official = new ArrayList<>(reference);
    assertEquals(498, official.size());
    assertEquals(List.of("yes", "no", "ultrasound", "extremities", "left temporal lobe", "cardiovascular", "vasculature",
        "mri diffusion weighted", "brain", "chest x ray", "axial", "asymmetric"), official.subList(0, 12));
    assertEquals("appendicitis", official.get(497));

    AnswerVocabulary v = vocabulary(Path.of("data-pipelines/vqa-rad.yaml"));
    assertEquals(AnswerOrder.FIRST_APPEARANCE, v.order());
    assertEquals(official, v.answers());
    assertEquals(0, v.indexOf("yes"));
    assertEquals(9, v.indexOf("chest x ray"));
  }
}
