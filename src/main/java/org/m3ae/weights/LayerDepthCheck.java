package org.m3ae.weights;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A checkpoint deeper than the graph it is loaded into: the layers the graph lacks would only be reported unused, and
 * the shallower model would go on to a wrong result (a 12-layer encoder cut to its first 6 layers looks loaded). Any
 * unused weight of a layer beyond the ones the graph builds, in a stack the graph does build, is therefore an error
 * naming the first such tensor and both depths. A stack the graph does not build at all (the MIM decoder in a task
 * graph, a task head in a pre-training graph) is left to the unused report.
 */
final class LayerDepthCheck {
  /** A stack is the key up to its first numeric component: {@code language_encoder.encoder.layer.}{@code 7}{@code .…}. */
  private static final Pattern LAYER = Pattern.compile("^(.*?\\.)(\\d+)\\.");

  private LayerDepthCheck() {}

  static void check(String origin, List<String> keys, Set<String> used) {
    Map<String, Integer> fileDepth = new HashMap<>();
    Map<String, Integer> builtDepth = new HashMap<>();
    for (String k : keys) {
      Matcher m = LAYER.matcher(k);
      if (!m.find()) continue;
      int depth = Integer.parseInt(m.group(2)) + 1;
      fileDepth.merge(m.group(1), depth, Math::max);
      if (used.contains(k)) builtDepth.merge(m.group(1), depth, Math::max);
    }
    for (String k : keys) {
      if (used.contains(k)) continue;
      Matcher m = LAYER.matcher(k);
      if (!m.find()) continue;
      Integer built = builtDepth.get(m.group(1));
      int layer = Integer.parseInt(m.group(2));
      if (built == null || layer < built) continue;
      int file = fileDepth.get(m.group(1));
      throw new WeightsException(origin + ": '" + k + "' is a weight of layer " + layer + " of " + m.group(1) + "*, which the "
          + "built graph does not have: file has " + file + " layers, config builds " + built + ". Use a config with " + file
          + " layers (or let the command infer it from the file); to take fewer layers on purpose, use init-student");
    }
  }
}
