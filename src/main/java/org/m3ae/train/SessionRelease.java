package org.m3ae.train;

import java.lang.reflect.Field;
import java.util.Map;
import org.nd4j.autodiff.samediff.SameDiff;

/**
 * Drops the execution sessions a SameDiff graph (and its gradient function) keeps after a call, so the call's
 * activations and backward temporaries become garbage when it returns.
 *
 * <p>Why (measured, docs/performance.md "memory"): in 1.0.0-M2.1 each graph keeps one {@code InferenceSession} per
 * thread, and a session's {@code nodeValueOutputs} map holds <em>every</em> op output of its last call until the next
 * call overwrites it; the gradient function runs with its array cache disabled, so nothing in it is released during
 * or after the call. A graph therefore pins a whole forward + backward (5.4 GB for the full teacher's MLM pass at batch
 * 1) between steps, and several pass graphs pin one each. SameDiff itself only clears the map inside {@code fit}. The
 * map is private; clearing it is the only way to release those arrays without closing arrays a caller still holds.
 */
public final class SessionRelease {
  private static final Field SESSIONS;

  static {
    try {
      SESSIONS = SameDiff.class.getDeclaredField("sessions");
      SESSIONS.setAccessible(true);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError("SameDiff.sessions not found: this DL4J version is not 1.0.0-M2.1 (" + e + ")");
    }
  }

  private SessionRelease() {}

  /** Forgets {@code sd}'s sessions and its gradient function's; the next call starts a fresh session. */
  public static void release(SameDiff sd) {
    clear(sd);
    SameDiff grad = sd.getFunction("grad");
    if (grad != null) clear(grad);
  }

  /** Number of live sessions of {@code sd} and its gradient function (0 after {@link #release}). */
  public static int sessions(SameDiff sd) {
    SameDiff grad = sd.getFunction("grad");
    return map(sd).size() + (grad == null ? 0 : map(grad).size());
  }

  private static void clear(SameDiff sd) {
    map(sd).clear();
  }

  @SuppressWarnings("unchecked")
  private static Map<Long, ?> map(SameDiff sd) {
    try {
      return (Map<Long, ?>) SESSIONS.get(sd);
    } catch (IllegalAccessException e) {
      throw new IllegalStateException(e);
    }
  }
}
