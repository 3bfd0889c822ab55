package org.m3ae.data;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.m3ae.data.config.PipelineConfig;
import org.m3ae.data.config.PipelineLoader;
import org.m3ae.data.BadRecordPolicy;
import org.m3ae.data.pipeline.DataPipeline;

/** A pipeline split's {@code holdout}: a seeded share of a split's images set aside as another split. */
class HoldoutTest {

  /** 300 captions over 150 images, two captions each, three images per case, in a JSONL file under {@code dir}. */
  private static Path pipeline(Path dir, String heldSplit, String restSplit) throws Exception {
    return pipeline(dir, heldSplit, restSplit, "");
  }

  private static Path pipeline(Path dir, String heldSplit, String restSplit, String groupField) throws Exception {
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < 300; i++)
      lines.add("{\"image\": \"img" + (i % 150) + "\", \"case\": \"case" + (i % 150) / 3 + "\", \"caption\": \"caption number " + i + " of image " + (i % 150) + "\"}");
    Files.createDirectories(dir.resolve("images"));
    javax.imageio.ImageIO.write(new java.awt.image.BufferedImage(2, 2, java.awt.image.BufferedImage.TYPE_INT_RGB), "png", dir.resolve("images/img0.png").toFile());
    for (int i = 1; i < 150; i++) Files.copy(dir.resolve("images/img0.png"), dir.resolve("images/img" + i + ".png"));
    Files.write(dir.resolve("pairs.jsonl"), lines);
    Path p = dir.resolve("pipe.yaml");
    Files.writeString(p, String.join("\n", "name: held", "task: pairs", "root: " + dir, "format: jsonl", "splits:",
        "  all: {files: [pairs.jsonl]}", "  fit: {files: [pairs.jsonl], holdout: " + restSplit + "}",
        "  val: {files: [pairs.jsonl], holdout: " + heldSplit + "}", "fields: {image: image, text: caption, id: caption" + groupField + "}",
        "images: {dir: images, pattern: \"{image}.png\"}", "tokenizer: {file: \"embedded:synthetic\", style: bert, max_length: 40}",
        "image: {size: 32}", ""));
    return p;
  }

  private static Set<String> ids(DataPipeline d, String split) {
    Set<String> s = new HashSet<>();
    for (DataRecord r : d.rawRecords(split)) s.add(r.id());
    return s;
  }

  private static Set<String> images(DataPipeline d, String split) {
    Set<String> s = new HashSet<>();
    for (DataRecord r : d.rawRecords(split)) s.add(r.image().getFileName().toString());
    return s;
  }

  @Test
  void heldAndRestPartitionTheSplitByImage(@TempDir Path dir) throws Exception {
    Path p = pipeline(dir, "{fraction: 0.2, seed: 3, keep: held}", "{fraction: 0.2, seed: 3, keep: rest}");
    try (DataPipeline d = DataPipeline.open(PipelineLoader.load(p), BadRecordPolicy.FAIL)) {
      Set<String> all = ids(d, "all"), fit = ids(d, "fit"), val = ids(d, "val");
      assertEquals(300, all.size());
      assertEquals(300, fit.size() + val.size());
      Set<String> union = new HashSet<>(fit);
      union.addAll(val);
      assertEquals(all, union);
      // both captions of an image on one side: no image in both splits
      Set<String> both = new HashSet<>(images(d, "fit"));
      both.retainAll(images(d, "val"));
      assertTrue(both.isEmpty(), "images on both sides: " + both);
      assertEquals(2 * images(d, "val").size(), val.size());
      // 150 images at 0.2: 30 expected, sd 4.9
      int held = images(d, "val").size();
      assertTrue(held >= 15 && held <= 45, held + " images held out of 150 at fraction 0.2");
      // file order kept
      List<String> order = d.rawRecords("val").stream().map(DataRecord::id).toList();
      List<String> expect = d.rawRecords("all").stream().map(DataRecord::id).filter(val::contains).toList();
      assertEquals(expect, order);
    }
    Path q = pipeline(dir.resolve("other"), "{fraction: 0.2, seed: 4, keep: held}", "{fraction: 0.2, seed: 4, keep: rest}");
    try (DataPipeline d3 = DataPipeline.open(PipelineLoader.load(p), BadRecordPolicy.FAIL);
        DataPipeline d4 = DataPipeline.open(PipelineLoader.load(q), BadRecordPolicy.FAIL)) {
      assertNotEquals(images(d3, "val"), images(d4, "val"), "another seed holds out other images");
      assertEquals(images(d3, "val"), new HoldoutImages(PipelineLoader.load(p).splits().get("val").holdout()).of(150));
    }
  }

  @Test
  void aGroupFieldKeepsEachGroupOnOneSide(@TempDir Path dir) throws Exception {
    Path p = pipeline(dir, "{fraction: 0.3, seed: 1, keep: held}", "{fraction: 0.3, seed: 1, keep: rest}", ", group: case");
    try (DataPipeline d = DataPipeline.open(PipelineLoader.load(p), BadRecordPolicy.FAIL)) {
      Set<String> fitCases = new HashSet<>(), valCases = new HashSet<>();
      for (DataRecord r : d.rawRecords("fit")) fitCases.add(r.group());
      for (DataRecord r : d.rawRecords("val")) valCases.add(r.group());
      assertEquals(50, fitCases.size() + valCases.size(), "every case on exactly one side");
      Set<String> both = new HashSet<>(fitCases);
      both.retainAll(valCases);
      assertTrue(both.isEmpty(), "cases on both sides: " + both);
      assertEquals(6 * valCases.size(), d.rawRecords("val").size(), "a held case keeps all its three images' six captions");
      assertTrue(valCases.size() >= 5 && valCases.size() <= 25, valCases.size() + " of 50 cases held at 0.3");
    }
    // by image file name (no group field), this seed splits some case's images across the two sides
    Path q = pipeline(dir.resolve("byImage"), "{fraction: 0.3, seed: 1, keep: held}", "{fraction: 0.3, seed: 1, keep: rest}");
    try (DataPipeline d = DataPipeline.open(PipelineLoader.load(q), BadRecordPolicy.FAIL)) {
      Set<String> fitCases = new HashSet<>(), valCases = new HashSet<>();
      for (DataRecord r : d.rawRecords("fit")) fitCases.add(r.image().getFileName().toString().replaceAll("img(\\d+).png", "$1"));
      for (DataRecord r : d.rawRecords("val")) valCases.add(r.image().getFileName().toString().replaceAll("img(\\d+).png", "$1"));
      Set<String> fitC = new HashSet<>(), valC = new HashSet<>();
      for (String i : fitCases) fitC.add("case" + Integer.parseInt(i) / 3);
      for (String i : valCases) valC.add("case" + Integer.parseInt(i) / 3);
      fitC.retainAll(valC);
      assertFalse(fitC.isEmpty(), "grouping by image should split some case here, or the test above shows nothing");
    }
  }

  /** The assignment is a function of the group (here the image's file name) and the seed alone. */
  private record HoldoutImages(PipelineConfig.Holdout h) {
    Set<String> of(int n) {
      Set<String> s = new HashSet<>();
      for (int i = 0; i < n; i++) if (h.held("img" + i + ".png")) s.add("img" + i + ".png");
      return s;
    }
  }

  @Test
  void aBadFractionOrSideNamesTheFileAndKey(@TempDir Path dir) throws Exception {
    Path p = pipeline(dir, "{fraction: 1.0, seed: 3, keep: held}", "{fraction: 0.2, seed: 3, keep: rest}");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PipelineLoader.load(p));
    assertTrue(e.getMessage().contains(p.toString()) && e.getMessage().contains("fraction"), e.getMessage());
    Path q = pipeline(dir.resolve("b"), "{fraction: 0.2, seed: 3, keep: middle}", "{fraction: 0.2, seed: 3, keep: rest}");
    e = assertThrows(IllegalArgumentException.class, () -> PipelineLoader.load(q));
    assertTrue(e.getMessage().contains(q.toString()) && e.getMessage().contains("keep") && e.getMessage().contains("held"), e.getMessage());
  }
}
