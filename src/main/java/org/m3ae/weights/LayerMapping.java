package org.m3ae.weights;

import java.util.Arrays;
import java.util.Locale;

/**
 * Which teacher layer initialises (and later supervises) each student layer when a stack is
 * shallower in the student. The default is EfficientVLM's (SPEC §6.2): student layer i takes the
 * last teacher layer of its block, {@code ceil((i+1)·T/S) − 1}, which for 12 → 6 is teacher
 * 1, 3, 5, 7, 9, 11 (their {@code load_params_choose_layers} mapper). "first" takes the first layer
 * of each block, {@code floor(i·T/S)}, TinyBERT's hidden-state choice (SPEC §6.3).
 */
public enum LayerMapping {
  LAST_OF_BLOCK,
  FIRST_OF_BLOCK;

  public static LayerMapping parse(String s) {
    return switch (s.toLowerCase(Locale.ROOT)) {
      case "last", "last-of-block", "efficientvlm" -> LAST_OF_BLOCK;
      case "first", "first-of-block" -> FIRST_OF_BLOCK;
      default -> throw new IllegalArgumentException("unknown layer mapping '" + s
          + "' (last-of-block | first-of-block, or explicit teacher indices like 1,3,5)");
    };
  }

  /** Teacher layer for each of {@code student} layers of a {@code teacher}-layer stack. */
  public int[] map(int teacher, int student) {
    if (student > teacher) {
      throw new IllegalArgumentException("student stack (" + student + ") deeper than teacher (" + teacher + ")");
    }
    int[] m = new int[student];
    for (int i = 0; i < student; i++) {
      m[i] = this == LAST_OF_BLOCK
          ? (int) Math.ceil((double) (i + 1) * teacher / student) - 1
          : (int) Math.floor((double) i * teacher / student);
    }
    return m;
  }

  /** Parses an explicit list such as {@code 1,3,5} and checks it against the stack sizes. */
  public static int[] explicit(String list, int teacher, int student) {
    int[] m = Arrays.stream(list.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
    if (m.length != student) {
      throw new IllegalArgumentException("mapping " + list + " has " + m.length + " entries, student has " + student + " layers");
    }
    for (int t : m) {
      if (t < 0 || t >= teacher) throw new IllegalArgumentException("teacher layer " + t + " out of range 0.." + (teacher - 1));
    }
    return m;
  }
}
