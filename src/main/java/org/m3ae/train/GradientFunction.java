package org.m3ae.train;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.nd4j.autodiff.samediff.SameDiff;

/**
 * Builds a graph's backward function once, without SameDiff's console noise.
 *
 * <p>SameDiff 1.0.0-M2.1's {@code createGradFunction} prints one "Added differentiated op &lt;name&gt;" line per op to
 * {@code System.out}, unconditionally (no logger): thousands of lines for a training graph, mixed into the results a
 * command prints. Those lines are dropped while the function is built; every other line written to standard output
 * in the meantime, by any thread, passes through. The swap of {@code System.out} is process-wide, so builds are
 * serialised: two runs in one JVM (the demo pre-trains its teacher and its undistilled student side by side) must not
 * each restore the other's filter, which would leave standard output filtered, or muted, for the rest of the process.
 */
public final class GradientFunction {

  static final String NOISE = "Added differentiated op ";
  private static final Object STDOUT = new Object();

  private GradientFunction() {}

  /** Creates {@code sd}'s gradient function unless it has one. */
  public static void build(SameDiff sd) {
    if (sd.getFunction("grad") != null) return; // every training call passes here: no lock once built
    synchronized (STDOUT) {
      if (sd.getFunction("grad") != null) return;
      PrintStream out = System.out;
      PrintStream filtered = new PrintStream(new DropLines(out, NOISE), true);
      System.setOut(filtered);
      try {
        sd.createGradFunction();
      } finally {
        System.setOut(out);
        filtered.close(); // writes out a partial last line, keeps the real stream open
      }
    }
  }

  /** Passes whole lines to {@code out}, except those that start with {@code prefix}. */
  private static final class DropLines extends OutputStream {
    private final PrintStream out;
    private final byte[] prefix;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();

    DropLines(PrintStream out, String prefix) {
      this.out = out;
      this.prefix = prefix.getBytes(StandardCharsets.US_ASCII); // ASCII: the same bytes in any console charset
    }

    @Override
    public synchronized void write(int b) {
      line.write(b);
      if (b == '\n') emit();
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) {
      for (int i = off; i < off + len; i++) write(b[i]);
    }

    @Override
    public synchronized void flush() {
      out.flush();
    }

    @Override
    public synchronized void close() throws IOException {
      if (line.size() > 0) emit();
      out.flush();
    }

    private void emit() {
      byte[] bytes = line.toByteArray();
      line.reset();
      if (!startsWith(bytes)) out.write(bytes, 0, bytes.length);
    }

    private boolean startsWith(byte[] bytes) {
      if (bytes.length < prefix.length) return false;
      for (int i = 0; i < prefix.length; i++) if (bytes[i] != prefix[i]) return false;
      return true;
    }
  }
}
