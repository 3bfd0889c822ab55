package org.m3ae.data.text;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.m3ae.model.ModelConfig;
import org.m3ae.tasks.FinetuneRun;
import org.m3ae.testing.MicroConfigs;
import org.m3ae.weights.SafetensorsWriter;
import org.m3ae.weights.WeightsException;
import org.nd4j.autodiff.samediff.SameDiff;

/** RoBERTa-indexed weights only ever meet roberta-base's vocabulary; roberta-base's vocabulary only a 50265-row model. */
class RobertaIdsGuardTest {
  static final Path ROBERTA = Path.of("../shared/data/tokenizers/roberta-base.tokenizer.json");
  static TextTokenizer roberta, synthetic, renumbered;
  @TempDir static Path dir;
  static Path renumberedFile;

  @BeforeAll
  static void tokenizers() throws Exception {
    if (!Files.isRegularFile(ROBERTA)) throw new AssertionError(ROBERTA.toAbsolutePath().normalize() + " is missing (README)");
    roberta = TextTokenizer.load(new TokenizerSpec(ROBERTA.toString(), TokenizerStyle.ROBERTA, 8));
    synthetic = TextTokenizer.load(new TokenizerSpec(TokenizerSpec.EMBEDDED_SYNTHETIC, TokenizerStyle.BERT, 8));
    // The dangerous case: same size, same specials, same merges, two ordinary tokens numbered the other way round.
    ObjectMapper om = new ObjectMapper();
    ObjectNode root = (ObjectNode) om.readTree(ROBERTA.toFile());
    ObjectNode vocab = (ObjectNode) root.get("model").get("vocab");
    int hello = vocab.get("Hello").asInt(), world = vocab.get("Ġworld").asInt();
    vocab.put("Hello", world);
    vocab.put("Ġworld", hello);
    renumberedFile = dir.resolve("renumbered.tokenizer.json");
    om.writeValue(renumberedFile.toFile(), root);
    renumbered = TextTokenizer.load(new TokenizerSpec(renumberedFile.toString(), TokenizerStyle.ROBERTA, 8));
  }

  @AfterAll
  static void close() {
    for (TextTokenizer t : new TextTokenizer[] {roberta, synthetic, renumbered}) if (t != null) t.close();
  }

  static Path weights(String key, int rows) {
    Path f = dir.resolve(key.replace('.', '_') + "-" + rows + ".safetensors");
    new SafetensorsWriter().add(key, new long[] {rows, 2}, new float[rows * 2]).add("other.bias", new long[] {2}, new float[2]).write(f);
    return f;
  }

  @Test
  void robertaIndexedWeightsWithAnotherVocabularyAreAnErrorNamingBothFiles() {
    for (String key : new String[] {"language_encoder.embeddings.word_embeddings.weight", "roberta.embeddings.word_embeddings.weight",
        "embeddings.word_embeddings.weight"}) {
      Path f = weights(key, 50265);
      for (TextTokenizer wrong : new TextTokenizer[] {renumbered, synthetic}) {
        WeightsException e = assertThrows(WeightsException.class, () -> RobertaIdsGuard.checkWeights(f, wrong));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains(wrong.spec().file())
            && e.getMessage().contains("roberta-base"), e.getMessage());
      }
      assertDoesNotThrow(() -> RobertaIdsGuard.checkWeights(f, roberta));
    }
  }

  @Test
  void otherVocabulariesAreLeftToTheirOwnTokenizers() {
    // a 50-row table (the micro M3AE, the synthetic models) is not RoBERTa-indexed
    Path f = weights("language_encoder.embeddings.word_embeddings.weight", 50);
    assertDoesNotThrow(() -> RobertaIdsGuard.checkWeights(f, synthetic));
    assertDoesNotThrow(() -> RobertaIdsGuard.checkWeights(f, renumbered));
  }

  @Test
  void fineTuningLoadersRefuseTheMismatchBeforeLoading() {
    Path f = weights("language_encoder.embeddings.word_embeddings.weight", 50265);
    WeightsException e = assertThrows(WeightsException.class, () -> FinetuneRun.loadInto(SameDiff.create(), f, renumbered));
    assertTrue(e.getMessage().contains(renumberedFile.toString()), e.getMessage());
  }

  /** Every shipped pipeline for M3AE's text encoder reads roberta-base's vocabulary, and every run over one fits it. */
  @Test
  void shippedRobertaPipelinesAndRunConfigsUseRobertaBase() throws Exception {
    for (String name : new String[] {"medpix", "vqa-rad", "roco", "slake", "vqa-med-2019", "melinda"}) {
      var pc = org.m3ae.data.config.PipelineLoader.load(Path.of("data-pipelines/" + name + ".yaml"));
      try (TextTokenizer t = TextTokenizer.load(pc.tokenizer())) {
        assertTrue(org.m3ae.data.text.RobertaBaseVocabulary.matches(t), name + ": " + pc.tokenizer().file());
      }
    }
    ObjectMapper yaml = new ObjectMapper(new com.fasterxml.jackson.dataformat.yaml.YAMLFactory());
    int runs = 0;
    try (var files = Files.list(Path.of("configs/runs"))) {
      for (Path f : files.sorted().toList()) {
        var root = yaml.readTree(f.toFile());
        String pipeline = root.path("data").path("pipeline").asText();
        if (pipeline.contains("synthetic")) continue;
        var pc = org.m3ae.data.config.PipelineLoader.load(Path.of(pipeline));
        // a WordPiece pipeline (a BERT-family text tower, e.g. medpix-bge-teacher) cannot be roberta-base's vocabulary
        if (pc.tokenizer().style() != TokenizerStyle.ROBERTA) continue;
        ModelConfig m = ModelConfig.load(Path.of(root.get("model").asText()));
        try (TextTokenizer t = TextTokenizer.load(pc.tokenizer())) {
          RobertaIdsGuard.checkModel(t, m.text(), pipeline, f.toString());
        }
        runs++;
      }
    }
    assertTrue(runs >= 8, runs + " run configs over RoBERTa pipelines");
  }

  @Test
  void robertaVocabularyNeedsA50265RowTextConfig() {
    ModelConfig.Text micro = MicroConfigs.micro().text();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> RobertaIdsGuard.checkModel(roberta, micro, "p.yaml", "m.yaml"));
    assertTrue(e.getMessage().contains("m.yaml text.vocab_size is 40") && e.getMessage().contains(ROBERTA.toString()), e.getMessage());
    assertDoesNotThrow(() -> RobertaIdsGuard.checkModel(synthetic, micro, "p.yaml", "m.yaml"));
    ModelConfig teacher = ModelConfig.load(Path.of("configs/models/teacher-m3ae.yaml"));
    assertDoesNotThrow(() -> RobertaIdsGuard.checkModel(roberta, teacher.text(), "p.yaml", "m.yaml"));
  }
}
