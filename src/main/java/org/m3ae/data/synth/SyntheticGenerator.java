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
 * {@code captions_{train,val,test}.jsonl} (MedPix-like: image, caption), {@code vqa_{train,val,test}.json}
 * (VQA-RAD-like: qid, image_name, question, answer, answer_type), {@code scenes.json} (the ground
 * truth of every image) and {@code tokenizer.json}. Image {@code i} depends only on (seed, i), so a
 * larger {@code n} extends a smaller one. Every fifth image goes to test and every tenth (a different one) to
 * validation, so settings can be chosen on validation and the test split touched once.
 */
public final class SyntheticGenerator {

  private SyntheticGenerator() {}

  public static String imageName(int i) {
    return String.format("syn_%05d", i);
  }

  public static boolean isTest(int i) {
    return i % 5 == 4;
  }

  public static boolean isVal(int i) {
    return i % 10 == 2;
  }

  /** The split image {@code i} belongs to. */
  public static String split(int i) {
    return isTest(i) ? "test" : isVal(i) ? "val" : "train";
  }

  static final List<String> SPLITS = List.of("train", "val", "test");

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
    Map<String, BufferedWriter> captions = new LinkedHashMap<>();
    for (String split : SPLITS) vqa.put(split, new ArrayList<>());
    List<Map<String, Object>> scenes = new ArrayList<>();
    int qid = 0;
    try {
      for (String split : SPLITS) {
        captions.put(split, Files.newBufferedWriter(out.resolve("captions_" + split + ".jsonl"), StandardCharsets.UTF_8));
      }
      for (int i = 0; i < n; i++) {
        SyntheticScene s = scene(seed, i);
        String name = imageName(i);
        BufferedImage img = new BufferedImage(s.width(), s.height(), BufferedImage.TYPE_BYTE_GRAY);
        img.getRaster().setDataElements(0, 0, s.width(), s.height(), s.render(rng(seed, i, 2)));
        ImageIO.write(img, "png", out.resolve("images").resolve(name + ".png").toFile());
        String split = split(i);
        captions.get(split).write(om.writeValueAsString(Map.of("image", name, "caption", s.caption())) + "\n");
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
    } finally {
      for (BufferedWriter b : captions.values()) b.close();
    }
    var w = om.writer().with(SerializationFeature.INDENT_OUTPUT);
    for (String split : SPLITS) w.writeValue(out.resolve("vqa_" + split + ".json").toFile(), vqa.get(split));
    w.writeValue(out.resolve("scenes.json").toFile(), Map.of("n", n, "seed", seed, "scenes", scenes));
    Files.writeString(out.resolve("tokenizer.json"), SyntheticTokenizerJson.build());
  }
}
