package org.m3ae.cli;

import org.m3ae.tasks.TaskConfig;

/** Command-line overrides of a {@link TaskConfig}. */
final class TaskConfigs {
  private TaskConfigs() {}

  static TaskConfig withSeed(TaskConfig c, long seed) {
    return new TaskConfig(c.name(), c.task(), c.model(), c.init(), c.data(), c.train().withSeed(seed), c.eval());
  }

  static TaskConfig withInit(TaskConfig c, String init) {
    return new TaskConfig(c.name(), c.task(), c.model(), init, c.data(), c.train(), c.eval());
  }
}
