package org.m3ae.data;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import javax.imageio.ImageIO;

/** Small images and files the data tests write into their temp folders. */
public final class Fixtures {
  private Fixtures() {}

  public static final Path SHARED = Path.of("../shared/data");

  /**
   * The shared data every CI run has beside the clone (README). Missing data fails the test with the path to fix,
   * rather than skipping it: a skipped test checks nothing.
   */
  public static Path requireShared(String relative) {
    Path p = SHARED.resolve(relative);
    if (!java.nio.file.Files.exists(p)) {
      throw new AssertionError(p.toAbsolutePath().normalize() + " is missing: clone the project beside ../shared (README)");
    }
    return p;
  }

  public static BufferedImage noise(int w, int h, int type, long seed) {
    BufferedImage img = new BufferedImage(w, h, type);
    Random r = new Random(seed);
    for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img.setRGB(x, y, 0xff000000 | r.nextInt(0x1000000));
    return img;
  }

  public static Path png(Path file, int w, int h, long seed) throws IOException {
    Files.createDirectories(file.getParent());
    ImageIO.write(noise(w, h, BufferedImage.TYPE_INT_RGB, seed), "png", file.toFile());
    return file;
  }

  public static Path jpeg(Path file, int w, int h, long seed) throws IOException {
    Files.createDirectories(file.getParent());
    ImageIO.write(noise(w, h, BufferedImage.TYPE_INT_RGB, seed), "jpg", file.toFile());
    return file;
  }

  /** A JPEG cut in half: no end-of-image marker. */
  public static Path truncatedJpeg(Path file) throws IOException {
    jpeg(file, 40, 30, 1);
    byte[] b = Files.readAllBytes(file);
    Files.write(file, java.util.Arrays.copyOf(b, b.length / 2));
    return file;
  }

  public static Path gif(Path file) throws IOException {
    Files.createDirectories(file.getParent());
    ImageIO.write(noise(20, 20, BufferedImage.TYPE_INT_RGB, 2), "gif", file.toFile());
    return file;
  }

  /** Framed like a JPEG (SOI ... EOI) but with garbage inside: only a full decode can tell. */
  public static Path garbageJpeg(Path file) throws IOException {
    Files.createDirectories(file.getParent());
    byte[] b = new byte[600];
    new Random(3).nextBytes(b);
    b[0] = (byte) 0xFF;
    b[1] = (byte) 0xD8;
    b[2] = (byte) 0xFF;
    b[3] = (byte) 0x01;
    b[b.length - 2] = (byte) 0xFF;
    b[b.length - 1] = (byte) 0xD9;
    Files.write(file, b);
    return file;
  }
}
