package org.m3ae.data.synth;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.awt.image.BufferedImage;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;

/**
 * Writes the synthetic dataset ({@code data synth}): {@code images/syn_NNNNN.png} (grayscale),
 * {@code captions_{train,test}.jsonl} (MedPix-like: image, caption), {@code vqa_{train,test}.json}
 * (VQA-RAD-like: qid, image_name, question, answer, answer_type), {@code scenes.json} (the ground
 * truth of every image) and {@code tokenizer.json}. Image {@code i} depends only on (seed, i), so a
 * larger {@code n} extends a smaller one; every fifth image goes to test.
 */
public final class SyntheticGenerator {

  private SyntheticGenerator() {}

  public static String imageName(int i) {
    return String.format("syn_%05d", i);
  }

  public static boolean isTest(int i) {
    return i % 5 == 4;
  }

  static SplittableRandom rng(long seed, int i, int stream) {
    return new SplittableRandom(new SplittableRandom(seed * 0x9E3779B97F4A7C15L + i).nextLong() ^ (stream * 0xBF58476D1CE4E5B9L));
  }

  public static SyntheticScene scene(long seed, int i) {
    return SyntheticScene.random(rng(seed, i, 1));
  }

  public static void generate(Path out, int n, long seed) throws IOException {
    if (n < 2) throw new IllegalArgumentException("--n must be at least 2, got " + n);
    Files.createDirectories(out.resolve("images"));
    ObjectMapper om = new ObjectMapper();
    Map<String, List<Map<String, Object>>> vqa = new LinkedHashMap<>();
    vqa.put("train", new ArrayList<>());
    vqa.put("test", new ArrayList<>());
    List<Map<String, Object>> scenes = new ArrayList<>();
    int qid = 0;
    try (BufferedWriter tr = Files.newBufferedWriter(out.resolve("captions_train.jsonl"), StandardCharsets.UTF_8);
        BufferedWriter te = Files.newBufferedWriter(out.resolve("captions_test.jsonl"), StandardCharsets.UTF_8)) {
      for (int i = 0; i < n; i++) {
        SyntheticScene s = scene(seed, i);
        String name = imageName(i);
        BufferedImage img = new BufferedImage(s.width(), s.height(), BufferedImage.TYPE_BYTE_GRAY);
        img.getRaster().setDataElements(0, 0, s.width(), s.height(), s.render(rng(seed, i, 2)));
        ImageIO.write(img, "png", out.resolve("images").resolve(name + ".png").toFile());
        String split = isTest(i) ? "test" : "train";
        (isTest(i) ? te : tr).write(om.writeValueAsString(Map.of("image", name, "caption", s.caption())) + "\n");
        for (SyntheticScene.Question q : s.questions(rng(seed, i, 3))) {
          Map<String, Object> m = new LinkedHashMap<>();
          m.put("qid", qid++);
          m.put("image_name", name + ".png");
          m.put("question", q.question());
          m.put("answer", q.answer());
          m.put("answer_type", q.closed() ? "CLOSED" : "OPEN");
          vqa.get(split).add(m);
        }
        Map<String, Object> sm = new LinkedHashMap<>();
        sm.put("image", name);
        sm.put("split", split);
        sm.put("scene", s);
        scenes.add(sm);
      }
    }
    var w = om.writer().with(SerializationFeature.INDENT_OUTPUT);
    w.writeValue(out.resolve("vqa_train.json").toFile(), vqa.get("train"));
    w.writeValue(out.resolve("vqa_test.json").toFile(), vqa.get("test"));
    w.writeValue(out.resolve("scenes.json").toFile(), Map.of("n", n, "seed", seed, "scenes", scenes));
    Files.writeString(out.resolve("tokenizer.json"), SyntheticTokenizerJson.build());
  }
}
