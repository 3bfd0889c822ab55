package org.m3ae.testing;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Test fixtures made by editing a real config or file text. {@link String#replace} silently returns the text unchanged
 * when the target has moved, and a test would then check the unedited fixture; this fails instead.
 */
public final class Edits {
  private Edits() {}

  /** {@code text} with its one occurrence of {@code target} replaced; fails when it occurs zero or several times. */
  public static String replaceOnce(String text, String target, String replacement) {
    int at = text.indexOf(target);
    if (at < 0) fail("fixture edit: '" + target + "' is not in the text any more (was it reformatted?)");
    if (text.indexOf(target, at + 1) >= 0) fail("fixture edit: '" + target + "' occurs more than once; make it unique");
    return text.substring(0, at) + replacement + text.substring(at + target.length());
  }
}
