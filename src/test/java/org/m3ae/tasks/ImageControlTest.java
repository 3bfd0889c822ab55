package org.m3ae.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.m3ae.data.pipeline.Batch;
import org.m3ae.data.pipeline.BatchKeys;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The image swaps of {@code evaluate --image-controls}: a shuffled question never sees its own image file, even when
 * its batch holds only that image (the batch before supplies others); the draw is fixed by the seed; blank is zeros;
 * the rest of the batch is untouched.
 */
class ImageControlTest {
  /** A batch whose image row r is filled with the value {@code tag[r]}: [B, 1, 2, 2]. */
  private static Batch batch(double... tag) {
    INDArray img = Nd4j.create(DataType.FLOAT, tag.length, 1, 2, 2);
    for (int r = 0; r < tag.length; r++) img.slice(r).assign(tag[r]);
    INDArray ids = Nd4j.arange(tag.length).castTo(DataType.INT);
    List<String> names = java.util.stream.IntStream.range(0, tag.length).mapToObj(r -> "q" + r).toList();
    return new Batch(Map.of(BatchKeys.IMAGE, img, BatchKeys.TEXT_IDS, ids), names, names);
  }

  private static double tag(Batch b, int r) {
    return b.get(BatchKeys.IMAGE).slice(r).getDouble(0, 0, 0);
  }

  @Test
  void aShuffledQuestionIsNeverShownItsOwnImage() {
    // image file of a row ↔ its tag: a = 1, b = 2, c = 3, d = 4
    Map<Double, String> key = Map.of(1.0, "a", 2.0, "b", 3.0, "c", 4.0, "d");
    for (long seed = 0; seed < 20; seed++) {
      ImageControl.Swapper s = new ImageControl.Swapper(ImageControl.SHUFFLED, seed);
      Batch b1 = batch(1, 1, 2, 3), b2 = batch(4, 4); // the second batch holds one image only
      Batch o1 = s.apply(b1, List.of("a", "a", "b", "c")), o2 = s.apply(b2, List.of("d", "d"));
      for (int r = 0; r < 4; r++) assertNotEquals(tag(b1, r), tag(o1, r), "seed " + seed + " row " + r);
      for (int r = 0; r < 2; r++) assertNotEquals("d", key.get(tag(o2, r)), "seed " + seed); // from the batch before
      assertSame(b1.get(BatchKeys.TEXT_IDS), o1.get(BatchKeys.TEXT_IDS), "only the image changes");
      assertEquals(1.0, tag(b1, 0), "the input batch is not modified");

      ImageControl.Swapper again = new ImageControl.Swapper(ImageControl.SHUFFLED, seed);
      assertEquals(o1.get(BatchKeys.IMAGE), again.apply(batch(1, 1, 2, 3), List.of("a", "a", "b", "c")).get(BatchKeys.IMAGE));
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new ImageControl.Swapper(ImageControl.SHUFFLED, 0).apply(batch(1, 1), List.of("a", "a")));
    assertEquals(true, e.getMessage().contains("only a"), e.getMessage());
  }

  @Test
  void blankIsZerosAndOwnIsTheBatchItself() {
    Batch b = batch(1, 2, 3);
    Batch blank = new ImageControl.Swapper(ImageControl.BLANK, 0).apply(b, List.of("a", "b", "c"));
    assertEquals(Nd4j.zeros(DataType.FLOAT, 3, 1, 2, 2), blank.get(BatchKeys.IMAGE));
    assertSame(b, new ImageControl.Swapper(ImageControl.OWN, 0).apply(b, List.of("a", "b", "c")));
  }
}
