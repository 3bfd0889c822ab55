package org.m3ae.train;

import java.nio.file.Path;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A progress bar with the latest losses on a terminal; plain log lines every {@code every} steps otherwise. */
public final class ProgressListener implements TrainingListener {
  private static final Logger LOG = LoggerFactory.getLogger(ProgressListener.class);
  private final String task;
  private final int every;
  private final boolean terminal;
  private ProgressBar bar;
  private int total;

  public ProgressListener(String task, int every) {
    this(task, every, System.console() != null);
  }

  public ProgressListener(String task, int every, boolean terminal) {
    this.task = task;
    this.every = Math.max(1, every);
    this.terminal = terminal;
  }

  @Override
  public void onStart(Path runDir, int startStep, int totalSteps) {
    total = totalSteps;
    if (terminal) {
      bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(totalSteps).setStyle(ProgressBarStyle.ASCII)
          .setUpdateIntervalMillis(500).startsFrom(startStep, java.time.Duration.ZERO).build();
    } else {
      LOG.info("{}: steps {}..{} → {}", task, startStep, totalSteps - 1, runDir);
    }
  }

  @Override
  public void onStep(StepMetrics m) {
    String losses = summary(m);
    if (bar != null) {
      bar.stepTo(m.step() + 1);
      bar.setExtraMessage(losses);
    } else if (m.step() % every == 0 || m.step() == total - 1) {
      LOG.info("step {}/{} {}", m.step() + 1, total, losses);
    }
  }

  @Override
  public void onValidation(StepMetrics m) {
    StringBuilder sb = new StringBuilder();
    m.values().forEach((k, v) -> sb.append(k).append('=').append(String.format("%.4f", v)).append(' '));
    if (bar != null) bar.setExtraMessage(sb.toString().trim());
    LOG.info("validation after step {}: {}", m.step() + 1, sb.toString().trim());
  }

  static String summary(StepMetrics m) {
    StringBuilder sb = new StringBuilder();
    for (var e : m.values().entrySet()) {
      String k = e.getKey();
      if (k.startsWith("loss_")) sb.append(k.substring(5)).append(' ').append(String.format("%.4f", e.getValue())).append("  ");
    }
    if (m.values().containsKey("mask_r") && !m.values().get("mask_r").isNaN()) {
      sb.append("r ").append(String.format("%.3f", m.values().get("mask_r"))).append("  ");
    }
    if (m.values().containsKey("pairs_per_s")) sb.append(String.format("%.1f pairs/s  ", m.values().get("pairs_per_s")));
    if (m.values().containsKey("rss_gb")) sb.append(String.format("%.1f GB", m.values().get("rss_gb")));
    return sb.toString().trim();
  }

  @Override
  public void onEnd(int lastStep, Throwable failure) {
    if (bar != null) bar.close();
  }
}
