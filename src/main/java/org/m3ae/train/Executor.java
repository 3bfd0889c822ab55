package org.m3ae.train;

/** How a training step's gradient calls run (docs/performance.md, issue 14). */
public enum Executor {
  /** {@link GraphPlan}s replayed per feed shape, falling back to the session where a graph cannot be planned. */
  @com.fasterxml.jackson.annotation.JsonProperty("plan") PLAN,
  /** SameDiff's own session on every call ({@link GradientCall}). */
  @com.fasterxml.jackson.annotation.JsonProperty("session") SESSION
}
