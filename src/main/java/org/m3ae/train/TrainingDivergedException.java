package org.m3ae.train;

/** A loss term became NaN or infinite: the run stops before the bad gradients touch the weights. */
public final class TrainingDivergedException extends RuntimeException {
  private final int step;
  private final String term;

  public TrainingDivergedException(int step, String term, double value, String lastCheckpoint) {
    super("step " + step + ": " + term + " is " + value + "; stopped before updating the weights. "
        + (lastCheckpoint == null ? "No checkpoint was written yet." : "The last good checkpoint is " + lastCheckpoint + " (untouched)."));
    this.step = step;
    this.term = term;
  }

  public int step() {
    return step;
  }

  public String term() {
    return term;
  }
}
