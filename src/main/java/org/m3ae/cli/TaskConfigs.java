package org.m3ae.cli;

import org.m3ae.tasks.TaskConfig;

/** Command-line overrides of a {@link TaskConfig}. */
final class TaskConfigs {
  private TaskConfigs() {}

  static TaskConfig withSeed(TaskConfig c, long seed) {
    var t = c.train();
    var nt = new TaskConfig.Train(t.epochs(), t.batchSize(), t.accumulate(), t.lr(), t.lrMultipliers(), t.weightDecay(), t.betas(),
        t.warmup(), t.clipNorm(), t.noDecay(), seed, t.dropout(), t.maxSteps(), t.negatives(), t.validateEvery(), t.freezeEmbeddings(),
        t.executor());
    return new TaskConfig(c.name(), c.task(), c.model(), c.init(), c.data(), nt, c.eval());
  }

  static TaskConfig withInit(TaskConfig c, String init) {
    return new TaskConfig(c.name(), c.task(), c.model(), init, c.data(), c.train(), c.eval());
  }
}
