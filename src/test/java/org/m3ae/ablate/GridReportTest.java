package org.m3ae.ablate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The grid's table from hand-made cell results: aggregation, Markdown, results.json and the charts. */
class GridReportTest {
  @TempDir Path dir;

  static CellResult cell(String variant, long seed, double overall, double closed, double open, double itm) {
    Map<String, Double> m = new LinkedHashMap<>();
    m.put("vqa_overall", overall);
    m.put("vqa_closed", closed);
    m.put("vqa_open", open);
    m.put("itm_accuracy", itm);
    Map<String, Double> maj = Map.of("overall", 0.349, "closed", 0.563, "open", 0.191);
    Map<String, Double> det = Map.of("vqa_n", 375.0, "vqa_n_closed", 160.0, "vqa_n_open", 215.0, "itm_pairs", 80.0);
    return new CellResult(variant, seed, m, maj, 50, det, Map.of("total", 1.0), "2026-01-01T00:00:00Z");
  }

  static GridReport report() {
    List<CellResult> cells = new ArrayList<>();
    cells.add(cell("KD off", 0, 0.50, 0.56, 0.44, 0.90));
    cells.add(cell("KD off", 1, 0.52, 0.56, 0.46, 0.91));
    cells.add(cell("KD off", 2, 0.54, 0.56, 0.48, 0.92));
    cells.add(cell("both", 0, 0.40, 0.56, 0.30, 0.50));
    cells.add(cell("both", 1, 0.46, 0.56, 0.36, 0.51));
    return new GridReport("g", List.of("KD off", "both"), "KD off", cells);
  }

  @Test
  void meansAndSdsPerVariantAsWorkedOutByHand() {
    GridReport r = report();
    GridReport.Row off = r.rows.get(0), both = r.rows.get(1);
    assertEquals(3, off.n());
    assertEquals(0.52, off.stats().get("vqa_overall").mean(), 1e-12);
    assertEquals(0.02, off.stats().get("vqa_overall").sd(), 1e-12);
    assertEquals(0.46, off.stats().get("vqa_open").mean(), 1e-12);
    assertEquals(0.02, off.stats().get("vqa_open").sd(), 1e-12);
    assertEquals(0.0, off.stats().get("vqa_closed").sd(), 1e-12);
    assertEquals(0.91, off.stats().get("itm_accuracy").mean(), 1e-12);
    assertEquals(0.01, off.stats().get("itm_accuracy").sd(), 1e-12);
    assertEquals(2, both.n());
    assertEquals(0.43, both.stats().get("vqa_overall").mean(), 1e-12);
    assertEquals(0.03 * Math.sqrt(2), both.stats().get("vqa_overall").sd(), 1e-12);
    assertEquals(0.505, both.stats().get("itm_accuracy").mean(), 1e-12);
    assertEquals(0.349, r.majority.get("vqa_overall"));
    assertEquals(0.02, r.chance.get("vqa_open"));
    assertEquals(0.5, r.chance.get("itm_accuracy"));
    assertEquals(4, r.comparisons.size());
  }

  @Test
  void markdownHasTheTableTheBaselinesAndAStatementPerComparison() {
    String md = report().markdown();
    assertTrue(md.contains("| variant | n | VQA overall | VQA closed | VQA open | ITM acc |\n|---|---:|---:|---:|---:|---:|\n"), md);
    assertTrue(md.contains("| KD off | 3 | 52.0 ± 2.0 | 56.0 ± 0.0 | 46.0 ± 2.0 | 91.0 ± 1.0 |\n"), md);
    assertTrue(md.contains("| both | 2 | 43.0 ± 4.2 | 56.0 ± 0.0 | 33.0 ± 4.2 | 50.5 ± 0.7 |\n"), md);
    assertTrue(md.contains("| majority answer (train) | – | 34.9 | 56.3 | 19.1 | – |\n"), md);
    assertTrue(md.contains("| chance | – | 2.0 | 2.0 | 2.0 | 50.0 |\n"), md);
    assertTrue(md.contains("- both vs KD off, VQA overall: -9.0 points; |t| = 2.80 ≤ 7.46 (df 1.3): within seed noise.\n"), md);
    assertTrue(md.contains("- both vs KD off, ITM acc: -40.5 points; |t| = 53.03 > "), md);
    assertTrue(md.contains("beyond seed noise.\n"), md);
    assertTrue(md.contains("- both vs KD off, VQA closed: +0.0 points; no estimate of seed noise"), md);
    assertTrue(md.contains("375 questions (160 closed, 215 open), 50 answers; ITM: 80 held-out pairs"), md);
  }

  @Test
  void resultsJsonAndOneDecodableChartPerMetric() throws Exception {
    List<Path> files = report().write(dir);
    JsonNode j = CellResult.JSON.readTree(dir.resolve("results.json").toFile());
    assertEquals(5, j.get("cells").size());
    assertEquals(0.52, j.get("variants").get(0).get("mean").get("vqa_overall").asDouble(), 1e-12);
    assertEquals(0.02, j.get("variants").get(0).get("sd").get("vqa_overall").asDouble(), 1e-12);
    assertEquals(0.563, j.get("baselines").get("majority").get("vqa_closed").asDouble());
    assertFalse(j.get("comparisons").get(0).get("beyond_seed_noise").asBoolean());
    assertEquals(2 + CellResult.METRICS.size(), files.size());
    for (String m : CellResult.METRICS) {
      Path png = dir.resolve("chart-" + m + ".png");
      BufferedImage img = ImageIO.read(png.toFile());
      assertNotNull(img, png + " is not a decodable image");
      assertEquals(BarChart.WIDTH, img.getWidth());
      assertEquals(BarChart.HEIGHT, img.getHeight());
      Set<Integer> colours = new HashSet<>();
      boolean bar = false;
      for (int y = 0; y < img.getHeight(); y += 2) {
        for (int x = 0; x < img.getWidth(); x += 2) {
          int rgb = img.getRGB(x, y) & 0xffffff;
          colours.add(rgb);
          bar |= rgb == ((70 << 16) | (110 << 8) | 170);
        }
      }
      assertTrue(colours.size() > 20, m + ": a blank picture (" + colours.size() + " colours)");
      assertTrue(bar, m + ": no bar drawn");
    }
  }
}
