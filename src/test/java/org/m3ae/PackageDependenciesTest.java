package org.m3ae;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.spi.ToolProvider;
import org.junit.jupiter.api.Test;
import org.m3ae.model.ModelConfig;

/**
 * The packages mirror the pipeline and depend one way (issue 17): {@code jdeps} (in the JDK) reads the compiled main
 * classes, and every import between two of the project's packages must point from a later stage to an earlier one,
 * with no cycle between any two packages, sub-packages included. {@code masking} holds pure samplers (MLM, ITM
 * negatives, patch masks) that the data pipeline's collator calls, so it sits before {@code data}; {@code distill} and
 * {@code tasks} are siblings and may not import each other.
 */
class PackageDependenciesTest {
  /** Rank of each top-level package under {@code org.m3ae}: a package may import only packages of a lower rank. */
  static final Map<String, Integer> RANK = Map.ofEntries(Map.entry("model", 0), Map.entry("weights", 1),
      Map.entry("masking", 2), Map.entry("data", 3), Map.entry("train", 4), Map.entry("distill", 5), Map.entry("tasks", 5),
      Map.entry("ablate", 6), Map.entry("demo", 6), Map.entry("bench", 6), Map.entry("ui", 7), Map.entry("cli", 8));

  @Test
  void importsPointFromLaterStagesToEarlierOnesWithoutCycles() throws Exception {
    Path classes = Path.of(ModelConfig.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    assertTrue(Files.isDirectory(classes), "compiled main classes expected in a directory, got " + classes);
    Map<String, Set<String>> edges = jdeps(classes);
    assertTrue(edges.keySet().containsAll(List.of("org.m3ae.cli", "org.m3ae.train", "org.m3ae.data.pipeline")),
        "jdeps saw the project's packages: " + edges.keySet());
    assertEquals(List.of(), violations(edges), "imports against the pipeline order " + RANK);
    assertEquals(List.of(), cycles(edges), "package cycles");
  }

  /** The checks themselves catch what they are for. */
  @Test
  void theChecksFindABackwardImportAndACycle() {
    Map<String, Set<String>> backward = Map.of("org.m3ae.data.pipeline", Set.of("org.m3ae.train", "org.m3ae.model"));
    assertEquals(List.of("org.m3ae.data.pipeline -> org.m3ae.train"), violations(backward));
    assertEquals(List.of("org.m3ae.tasks -> org.m3ae.distill"), violations(Map.of("org.m3ae.tasks", Set.of("org.m3ae.distill"))));
    assertEquals(List.of("org.m3ae.extra -> org.m3ae.model (org.m3ae.extra has no rank)"),
        violations(Map.of("org.m3ae.extra", Set.of("org.m3ae.model"))));
    Map<String, Set<String>> cycle = Map.of("org.m3ae.distill", Set.of("org.m3ae.distill.features"), "org.m3ae.distill.features",
        Set.of("org.m3ae.distill.x"), "org.m3ae.distill.x", Set.of("org.m3ae.distill"));
    assertEquals(List.of(new TreeSet<>(cycle.keySet())), cycles(cycle));
    assertEquals(List.of(), cycles(Map.of("org.m3ae.cli", Set.of("org.m3ae.model"))));
  }

  /** Package → the project packages it imports, from {@code jdeps -verbose:package}. */
  static Map<String, Set<String>> jdeps(Path classes) {
    ToolProvider jdeps = ToolProvider.findFirst("jdeps").orElseThrow(() -> new IllegalStateException("jdeps is not in this JDK"));
    StringWriter out = new StringWriter(), err = new StringWriter();
    int rc = jdeps.run(new PrintWriter(out), new PrintWriter(err), "-verbose:package", "-e", "org\\.m3ae\\..*", classes.toString());
    assertEquals(0, rc, "jdeps failed: " + err);
    Map<String, Set<String>> edges = new TreeMap<>();
    for (String line : out.toString().split("\n")) {
      String[] f = line.trim().split("\\s+");
      // "org.m3ae.bench   -> org.m3ae.data.pipeline   classes"
      if (f.length >= 3 && f[1].equals("->") && f[0].startsWith("org.m3ae.") && f[2].startsWith("org.m3ae.") && !f[0].equals(f[2])) {
        edges.computeIfAbsent(f[0], k -> new TreeSet<>()).add(f[2]);
      }
    }
    return edges;
  }

  static List<String> violations(Map<String, Set<String>> edges) {
    List<String> out = new ArrayList<>();
    for (var e : new TreeMap<>(edges).entrySet()) {
      String from = top(e.getKey());
      for (String to : new TreeSet<>(e.getValue())) {
        String t = top(to);
        if (from.equals(t)) continue;
        Integer rf = RANK.get(from), rt = RANK.get(t);
        if (rf == null || rt == null) {
          out.add(e.getKey() + " -> " + to + " (" + (rf == null ? "org.m3ae." + from : "org.m3ae." + t) + " has no rank)");
        } else if (rt >= rf) {
          out.add(e.getKey() + " -> " + to);
        }
      }
    }
    return out;
  }

  /** Strongly connected components of more than one package (Tarjan). */
  static List<Set<String>> cycles(Map<String, Set<String>> edges) {
    Set<String> nodes = new TreeSet<>(edges.keySet());
    edges.values().forEach(nodes::addAll);
    Map<String, Integer> index = new TreeMap<>(), low = new TreeMap<>();
    List<String> stack = new ArrayList<>();
    List<Set<String>> out = new ArrayList<>();
    for (String v : nodes) if (!index.containsKey(v)) connect(v, edges, index, low, stack, out);
    return out;
  }

  private static void connect(String v, Map<String, Set<String>> edges, Map<String, Integer> index, Map<String, Integer> low,
      List<String> stack, List<Set<String>> out) {
    index.put(v, index.size());
    low.put(v, index.get(v));
    stack.add(v);
    for (String w : edges.getOrDefault(v, Set.of())) {
      if (!index.containsKey(w)) {
        connect(w, edges, index, low, stack, out);
        low.put(v, Math.min(low.get(v), low.get(w)));
      } else if (stack.contains(w)) {
        low.put(v, Math.min(low.get(v), index.get(w)));
      }
    }
    if (low.get(v).equals(index.get(v))) {
      Set<String> comp = new TreeSet<>();
      String w;
      do {
        w = stack.remove(stack.size() - 1);
        comp.add(w);
      } while (!w.equals(v));
      if (comp.size() > 1) out.add(comp);
    }
  }

  private static String top(String pkg) {
    String rest = pkg.substring("org.m3ae.".length());
    int dot = rest.indexOf('.');
    return dot < 0 ? rest : rest.substring(0, dot);
  }
}
