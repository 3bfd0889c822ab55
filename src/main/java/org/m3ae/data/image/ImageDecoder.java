package org.m3ae.data.image;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.ShortPointer;
import org.bytedeco.opencv.global.opencv_core;
import org.bytedeco.opencv.global.opencv_imgcodecs;
import org.bytedeco.opencv.opencv_core.Mat;
import org.m3ae.data.BadRecordReason;

/**
 * Decodes JPEG and PNG files (gray, gray+alpha, RGB, RGBA; 8 or 16 bit) to 8-bit RGB with the
 * OpenCV codecs that DataVec's {@code NativeImageLoader} wraps. SPEC §3.4 opens every image as RGBA
 * and then drops alpha; for opaque pixels that equals dropping alpha here. 16-bit samples are scaled
 * by 255/65535 (rounded) rather than clipped as PIL's {@code I;16 -> RGB} would, so 16-bit scans
 * keep their contrast.
 *
 * <p>Damage is caught before decoding because libjpeg silently fills a truncated JPEG with gray:
 * the format is sniffed from the magic bytes, a JPEG must end in its EOI marker and a PNG must
 * contain its IEND chunk.
 */
public final class ImageDecoder {

  private ImageDecoder() {}

  public enum Format {
    JPEG,
    PNG
  }

  public static RgbImage decode(Path file) throws ImageDecodeException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new ImageDecodeException(BadRecordReason.MISSING_IMAGE, "image not found: " + file);
    } catch (IOException e) {
      throw new ImageDecodeException(BadRecordReason.MISSING_IMAGE, "cannot read image " + file + ": " + e.getMessage());
    }
    return decode(bytes, file.toString());
  }

  public static Format sniff(byte[] b, String name) throws ImageDecodeException {
    if (b.length == 0) throw new ImageDecodeException(BadRecordReason.CORRUPT_IMAGE, "empty image file: " + name);
    if (b.length >= 3 && (b[0] & 0xff) == 0xFF && (b[1] & 0xff) == 0xD8 && (b[2] & 0xff) == 0xFF) return Format.JPEG;
    if (b.length >= 8 && (b[0] & 0xff) == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G') return Format.PNG;
    String what = describe(b);
    throw new ImageDecodeException(BadRecordReason.UNSUPPORTED_IMAGE_FORMAT, "unsupported image format (" + what + "; JPEG and PNG are supported): " + name);
  }

  public static RgbImage decode(byte[] bytes, String name) throws ImageDecodeException {
    Format f = sniff(bytes, name);
    if (f == Format.JPEG && !jpegComplete(bytes))
      throw new ImageDecodeException(BadRecordReason.CORRUPT_IMAGE, "truncated JPEG (no end-of-image marker): " + name);
    if (f == Format.PNG && !pngComplete(bytes))
      throw new ImageDecodeException(BadRecordReason.CORRUPT_IMAGE, "truncated PNG (no IEND chunk): " + name);
    try (BytePointer bp = new BytePointer(bytes);
        Mat buf = new Mat(1, bytes.length, opencv_core.CV_8UC1, bp);
        Mat m = opencv_imgcodecs.imdecode(buf, opencv_imgcodecs.IMREAD_UNCHANGED)) {
      if (m == null || m.empty() || m.rows() <= 0 || m.cols() <= 0)
        throw new ImageDecodeException(BadRecordReason.CORRUPT_IMAGE, "corrupt " + f + " (decoder returned no pixels): " + name);
      return toRgb(m, name);
    }
  }

  private static RgbImage toRgb(Mat m, String name) throws ImageDecodeException {
    int h = m.rows(), w = m.cols(), ch = m.channels(), depth = m.depth();
    if (!m.isContinuous()) throw new ImageDecodeException(BadRecordReason.CORRUPT_IMAGE, "non-contiguous decode of " + name);
    int n = h * w * ch;
    int[] v = new int[n];
    if (depth == opencv_core.CV_8U) {
      byte[] a = new byte[n];
      m.data().capacity(n).get(a);
      for (int i = 0; i < n; i++) v[i] = a[i] & 0xff;
    } else if (depth == opencv_core.CV_16U) {
      short[] a = new short[n];
      new ShortPointer(m.data()).capacity(n).get(a);
      for (int i = 0; i < n; i++) v[i] = ((a[i] & 0xffff) * 255 + 32767) / 65535;
    } else {
      throw new ImageDecodeException(BadRecordReason.UNSUPPORTED_IMAGE_FORMAT, "unsupported sample depth (OpenCV depth " + depth + "): " + name);
    }
    byte[] rgb = new byte[h * w * 3];
    for (int p = 0; p < h * w; p++) {
      int o = p * 3, i = p * ch;
      switch (ch) {
        case 1, 2 -> rgb[o] = rgb[o + 1] = rgb[o + 2] = (byte) v[i];
        // OpenCV orders colour channels BGR(A).
        case 3, 4 -> {
          rgb[o] = (byte) v[i + 2];
          rgb[o + 1] = (byte) v[i + 1];
          rgb[o + 2] = (byte) v[i];
        }
        default -> throw new ImageDecodeException(BadRecordReason.UNSUPPORTED_IMAGE_FORMAT, ch + " channels: " + name);
      }
    }
    return new RgbImage(w, h, rgb);
  }

  private static boolean jpegComplete(byte[] b) {
    // Some writers pad after EOI; accept the marker within the last 64 bytes.
    for (int i = b.length - 2; i >= Math.max(2, b.length - 64); i--) if ((b[i] & 0xff) == 0xFF && (b[i + 1] & 0xff) == 0xD9) return true;
    return false;
  }

  private static boolean pngComplete(byte[] b) {
    for (int i = b.length - 8; i >= Math.max(8, b.length - 64); i--) if (b[i] == 'I' && b[i + 1] == 'E' && b[i + 2] == 'N' && b[i + 3] == 'D') return true;
    return false;
  }

  private static String describe(byte[] b) {
    if (b.length >= 4 && b[0] == 'G' && b[1] == 'I' && b[2] == 'F') return "GIF";
    if (b.length >= 12 && b[0] == 'R' && b[1] == 'I' && b[2] == 'F' && b[3] == 'F' && b[8] == 'W' && b[9] == 'E') return "WebP";
    if (b.length >= 2 && b[0] == 'B' && b[1] == 'M') return "BMP";
    if (b.length >= 4 && ((b[0] == 'I' && b[1] == 'I') || (b[0] == 'M' && b[1] == 'M'))) return "TIFF";
    if (b.length >= 4 && b[0] == 'D' && b[1] == 'I' && b[2] == 'C' && b[3] == 'M') return "DICOM";
    return String.format("magic bytes %02x %02x %02x %02x", b[0], b.length > 1 ? b[1] : 0, b.length > 2 ? b[2] : 0, b.length > 3 ? b[3] : 0);
  }
}
