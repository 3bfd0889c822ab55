package org.m3ae.masking;

/**
 * One image's MIM mask (SPEC §2.3) in MAE's terms.
 *
 * @param keep visible patch indices, ascending, {@code len_keep} of them
 * @param masked hidden patch indices, ascending
 * @param restore {@code ids_restore}: position of patch {@code i} in {@code keep ++ masked}
 */
public record PatchMask(int[] keep, int[] masked, int[] restore) {

  public static PatchMask fromMaskedFlags(boolean[] isMasked) {
    int n = isMasked.length, nm = 0;
    for (boolean b : isMasked) if (b) nm++;
    int[] keep = new int[n - nm], masked = new int[nm], restore = new int[n];
    int k = 0, m = 0;
    for (int i = 0; i < n; i++) {
      if (isMasked[i]) masked[m++] = i;
      else keep[k++] = i;
    }
    for (int i = 0; i < keep.length; i++) restore[keep[i]] = i;
    for (int i = 0; i < masked.length; i++) restore[masked[i]] = keep.length + i;
    return new PatchMask(keep, masked, restore);
  }

  /** SPEC §2.3: {@code len_keep = int(L * (1 - ratio))}. */
  public static int lenKeep(int numPatches, double maskRatio) {
    return (int) (numPatches * (1.0 - maskRatio));
  }
}
