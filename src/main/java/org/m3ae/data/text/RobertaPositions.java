package org.m3ae.data.text;

/**
 * RoBERTa's position ids as Hugging Face's {@code create_position_ids_from_input_ids} forms them (SPEC §1.2): from the
 * ids themselves, {@code cumsum(ids != pad) * (ids != pad) + pad}. Real tokens count from {@code pad + 1} and every
 * {@code <pad>} id sits at {@code pad}, wherever it is: the attention mask plays no part.
 */
public final class RobertaPositions {
  private RobertaPositions() {}

  public static int[] of(int[] ids, int pad) {
    int[] pos = new int[ids.length];
    int count = 0;
    for (int i = 0; i < ids.length; i++) {
      if (ids[i] == pad) {
        pos[i] = pad;
      } else {
        pos[i] = pad + ++count;
      }
    }
    return pos;
  }
}
