package org.m3ae.data;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.m3ae.data.synth.SyntheticGenerator;

/** The synthetic set: deterministic, its text agrees with its pixels, and the question alone gives chance. */
class SyntheticTest {

  @Test
  void sameSeedSameBytesOtherSeedOtherData(@TempDir Path dir) throws Exception {
    SyntheticGenerator.generate(dir.resolve("a"), 12, 9);
    SyntheticGenerator.generate(dir.resolve("b"), 12, 9);
    SyntheticGenerator.generate(dir.resolve("c"), 12, 10);
    for (String f : new String[] {"captions_train.jsonl", "vqa_test.json", "images/syn_00007.png", "tokenizer.json"})
      assertArrayEquals(Files.readAllBytes(dir.resolve("a").resolve(f)), Files.readAllBytes(dir.resolve("b").resolve(f)), f);
    assertFalse(java.util.Arrays.equals(Files.readAllBytes(dir.resolve("a/images/syn_00007.png")), Files.readAllBytes(dir.resolve("c/images/syn_00007.png"))));
  }

  @Test
  void threeDisjointSplitsSeventyTenTwenty(@TempDir Path dir) throws Exception {
    SyntheticGenerator.generate(dir, 50, 3);
    ObjectMapper om = new ObjectMapper();
    Map<String, String> splitOf = new HashMap<>();
    for (String split : new String[] {"train", "val", "test"}) {
      for (String line : Files.readAllLines(dir.resolve("captions_" + split + ".jsonl"))) {
        String image = om.readTree(line).get("image").asText();
        assertEquals(null, splitOf.put(image, split), image + " in two splits");
      }
      for (JsonNode q : om.readTree(dir.resolve("vqa_" + split + ".json").toFile())) {
        String image = q.get("image_name").asText().replace(".png", "");
        assertEquals(split, splitOf.get(image), "question " + q.get("qid") + " follows its image's split");
      }
    }
    assertEquals(50, splitOf.size());
    // images 2, 12, 22, 32, 42 are validation; 4, 9, 14, … test
    assertEquals(35, splitOf.values().stream().filter("train"::equals).count());
    assertEquals(5, splitOf.values().stream().filter("val"::equals).count());
    assertEquals("val", splitOf.get("syn_00012"));
    assertEquals("test", splitOf.get("syn_00009"));
  }

  @Test
  void captionsAndAnswersAgreeWithThePixels(@TempDir Path dir) throws Exception {
    SyntheticGenerator.generate(dir, 40, 21);
    JsonNode scenes = new ObjectMapper().readTree(dir.resolve("scenes.json").toFile()).get("scenes");
    Map<String, String> captions = new HashMap<>();
    for (String split : new String[] {"train", "val", "test"})
      for (String line : Files.readAllLines(dir.resolve("captions_" + split + ".jsonl"))) {
        JsonNode n = new ObjectMapper().readTree(line);
        captions.put(n.get("image").asText(), n.get("caption").asText());
      }
    for (JsonNode s : scenes) {
      String name = s.get("image").asText();
      BufferedImage img = ImageIO.read(dir.resolve("images/" + name + ".png").toFile());
      JsonNode scene = s.get("scene");
      assertEquals(scene.get("width").asInt(), img.getWidth());
      for (JsonNode f : scene.get("findings")) {
        int cx = f.get("cx").asInt(), cy = f.get("cy").asInt(), r = f.get("r").asInt();
        // Sample where the finding draws: the centre for filled kinds, the rim for a cyst.
        int x = f.get("kind").asText().equals("cyst") ? cx + r - 1 : cx;
        int v = img.getRaster().getSample(x, cy, 0);
        if (f.get("intensity").asText().equals("bright")) assertTrue(v > 200, name + " " + f + " value " + v);
        else assertTrue(v < 60, name + " " + f + " value " + v);
        assertEquals(f.get("side").asText().equals("left"), cx < img.getWidth() / 2, name + " side");
        String phrase = f.get("size").asText() + " " + f.get("intensity").asText() + " " + f.get("kind").asText() + " on the " + f.get("side").asText();
        assertTrue(captions.get(name).contains(phrase), captions.get(name) + " lacks " + phrase);
      }
    }
  }

  @Test
  void questionAloneGivesChanceOnClosedAndSideQuestions(@TempDir Path dir) throws Exception {
    SyntheticGenerator.generate(dir, 600, 4);
    ObjectMapper om = new ObjectMapper();
    // Text-only baseline: the majority train answer for each exact question string.
    Map<String, Map<String, Integer>> counts = new HashMap<>();
    for (JsonNode q : om.readTree(dir.resolve("vqa_train.json").toFile()))
      counts.computeIfAbsent(q.get("question").asText(), k -> new HashMap<>()).merge(q.get("answer").asText(), 1, Integer::sum);
    int closed = 0, closedRight = 0, side = 0, sideRight = 0;
    for (JsonNode q : om.readTree(dir.resolve("vqa_test.json").toFile())) {
      String question = q.get("question").asText();
      Map<String, Integer> c = counts.getOrDefault(question, Map.of());
      String guess = c.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse("yes");
      boolean right = guess.equals(q.get("answer").asText());
      if (q.get("answer_type").asText().equals("CLOSED")) {
        closed++;
        if (right) closedRight++;
      } else if (question.startsWith("which side")) {
        side++;
        if (right) sideRight++;
      }
    }
    double accClosed = (double) closedRight / closed, accSide = (double) sideRight / side;
    assertTrue(closed > 150 && side > 80);
    assertTrue(Math.abs(accClosed - 0.5) < 0.1, "text-only closed accuracy " + accClosed);
    assertTrue(Math.abs(accSide - 0.5) < 0.13, "text-only side accuracy " + accSide);
  }
}
