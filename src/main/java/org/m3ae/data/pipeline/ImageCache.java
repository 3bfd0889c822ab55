package org.m3ae.data.pipeline;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.m3ae.data.image.ImageDecodeException;
import org.m3ae.data.image.RgbImage;

/**
 * Least-recently-used cache of resized and cropped 8-bit images, for the deterministic {@code clip}
 * transform only. VQA sets ask many questions about one image (VQA-RAD: 3515 questions over 314
 * images, several of them 2000+ px JPEGs), so decoding once per image instead of once per question
 * removes most of the pipeline's cost. Bounded in bytes; shared by the prefetch workers.
 */
public final class ImageCache {

  /** Loads one image when it is not cached. */
  public interface Loader {
    RgbImage load(Path file) throws ImageDecodeException;
  }

  private final long budgetBytes;
  private long usedBytes;
  private final LinkedHashMap<Path, RgbImage> map = new LinkedHashMap<>(16, 0.75f, true);

  public ImageCache(long budgetBytes) {
    this.budgetBytes = budgetBytes;
  }

  public RgbImage get(Path file, Loader loader) throws ImageDecodeException {
    synchronized (this) {
      RgbImage hit = map.get(file);
      if (hit != null) return hit;
    }
    // Decode outside the lock; two workers may decode the same image once, which is harmless.
    RgbImage img = loader.load(file);
    synchronized (this) {
      if (budgetBytes > 0 && !map.containsKey(file)) {
        map.put(file, img);
        usedBytes += img.rgb().length;
        var it = map.entrySet().iterator();
        while (usedBytes > budgetBytes && it.hasNext()) {
          Map.Entry<Path, RgbImage> e = it.next();
          usedBytes -= e.getValue().rgb().length;
          it.remove();
        }
      }
    }
    return img;
  }
}
