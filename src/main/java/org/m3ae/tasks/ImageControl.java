package org.m3ae.tasks;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.m3ae.data.pipeline.Batch;
import org.m3ae.data.pipeline.BatchKeys;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * What a VQA model is shown in place of each question's own image when it is scored: the controls that say whether its
 * answers read the image at all. VQA-RAD's closed questions carry a strong question-only prior (docs/results.md), so an
 * accuracy above the majority answer is not yet evidence of vision; the same model scored with another question's
 * image (shuffled) or with no image (blank) is. Only the image changes: the question, the answer and the model do not.
 */
public enum ImageControl {
  /** Each question with its own image: the real score. */
  OWN("own images"),
  /** Each question with the image of another question of the split, one whose image file differs, drawn from a seed. */
  SHUFFLED("same model, each question shown another question's image"),
  /** Every question with the same empty image: zeros after normalisation, i.e. CLIP's mean colour everywhere. */
  BLANK("same model, blank image (CLIP mean colour)");

  private final String label;

  ImageControl(String label) {
    this.label = label;
  }

  /** The row label of a results table. */
  public String label() {
    return label;
  }

  /**
   * Swaps the images of consecutive batches of one split. Candidates for a row are the other rows of its batch and the
   * rows of the batch before it whose image file differs from the row's own, so that a question is never shown its
   * own image, even where a split lists several questions of one image together.
   */
  public static final class Swapper {
    private final ImageControl control;
    private final SplittableRandom rng;
    private INDArray previous; //                                              [P, C, H, W] of the last batch
    private List<String> previousKeys = List.of();

    public Swapper(ImageControl control, long seed) {
      this.control = control;
      this.rng = new SplittableRandom(seed);
    }

    /**
     * @param imageKeys the image file of each row of {@code b}, row-aligned
     * @return {@code b} with its image array replaced (itself for {@link #OWN})
     */
    public Batch apply(Batch b, List<String> imageKeys) {
      if (control == OWN || b.size() == 0) return b;
      INDArray img = b.get(BatchKeys.IMAGE); //                                  [B, C, H, W]
      INDArray out;
      if (control == BLANK) {
        out = Nd4j.zeros(img.dataType(), img.shape());
      } else {
        INDArray pool = previous == null ? img : Nd4j.concat(0, img, previous);
        List<String> poolKeys = new ArrayList<>(imageKeys);
        poolKeys.addAll(previousKeys);
        INDArray[] rows = new INDArray[b.size()];
        for (int i = 0; i < b.size(); i++) {
          List<Integer> other = new ArrayList<>();
          for (int j = 0; j < poolKeys.size(); j++) if (!poolKeys.get(j).equals(imageKeys.get(i))) other.add(j);
          if (other.isEmpty()) {
            throw new IllegalArgumentException("cannot show question " + i + " of a batch another image: the batch and the one "
                + "before it hold only " + imageKeys.get(i) + " (raise eval.batch_size)");
          }
          int j = other.get(rng.nextInt(other.size()));
          rows[i] = pool.get(NDArrayIndex.interval(j, j + 1)).dup(); //              [1, C, H, W]
        }
        out = Nd4j.concat(0, rows);
        previous = img.dup();
        previousKeys = List.copyOf(imageKeys);
      }
      Map<String, INDArray> arrays = new HashMap<>(b.arrays());
      arrays.put(BatchKeys.IMAGE, out);
      return new Batch(arrays, b.ids(), b.locations());
    }
  }
}
