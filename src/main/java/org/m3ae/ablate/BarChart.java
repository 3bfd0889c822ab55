package org.m3ae.ablate;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.renderer.category.StatisticalBarRenderer;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.statistics.DefaultStatisticalCategoryDataset;

/** One metric of a grid as a bar chart (PNG, headless): a bar per variant at its mean, error bars ± sd, baselines as lines. */
final class BarChart {
  public static final int WIDTH = 900, HEIGHT = 520;

  private BarChart() {}

  static void write(GridReport r, String metric, Path png) throws IOException {
    System.setProperty("java.awt.headless", "true");
    DefaultStatisticalCategoryDataset ds = new DefaultStatisticalCategoryDataset();
    double top = 0;
    for (GridReport.Row row : r.rows) {
      SeedStats.Summary s = row.stats().get(metric);
      if (s.n() == 0) continue;
      ds.add(100 * s.mean(), 100 * s.sd(), "mean ± sd over seeds", row.label() + " (n=" + row.n() + ")");
      top = Math.max(top, 100 * (s.mean() + s.sd()));
    }
    JFreeChart chart = ChartFactory.createBarChart(r.grid + ": " + CellResult.title(metric) + " (test split)", "variant",
        CellResult.title(metric) + " (%)", ds, PlotOrientation.VERTICAL, true, false, false);
    chart.setBackgroundPaint(Color.WHITE);
    CategoryPlot plot = chart.getCategoryPlot();
    plot.setBackgroundPaint(Color.WHITE);
    plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
    plot.getDomainAxis().setMaximumCategoryLabelLines(3); // wrap long variant labels instead of cutting them to "…"
    StatisticalBarRenderer bars = new StatisticalBarRenderer();
    bars.setSeriesPaint(0, new Color(70, 110, 170));
    bars.setErrorIndicatorPaint(Color.BLACK);
    bars.setDrawBarOutline(false);
    bars.setMaximumBarWidth(0.12);
    plot.setRenderer(bars);
    Double maj = r.majority.get(metric), ch = r.chance.get(metric);
    if (maj != null) {
      plot.addRangeMarker(marker(100 * maj, "majority answer " + String.format(java.util.Locale.ROOT, "%.1f", 100 * maj), new Color(200, 90, 40)));
      top = Math.max(top, 100 * maj);
    }
    if (ch != null) {
      plot.addRangeMarker(marker(100 * ch, "chance " + String.format(java.util.Locale.ROOT, "%.1f", 100 * ch), Color.GRAY));
      top = Math.max(top, 100 * ch);
    }
    plot.getRangeAxis().setRange(0, Math.min(100, Math.max(1, top) * 1.12 + 1));
    ChartUtils.saveChartAsPNG(png.toFile(), chart, WIDTH, HEIGHT);
  }

  private static ValueMarker marker(double v, String label, Color c) {
    ValueMarker m = new ValueMarker(v, c, new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 1, new float[] {6, 4}, 0));
    m.setLabel(label);
    m.setLabelPaint(c);
    m.setLabelAnchor(RectangleAnchor.TOP_LEFT);
    m.setLabelTextAnchor(TextAnchor.BOTTOM_LEFT);
    return m;
  }
}
