package org.m3ae.ui;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The runs the UI shows. It is a JVM-wide singleton because its reader, {@link M3aeUiModule}, is created by
 * DL4J's UI server through {@link java.util.ServiceLoader} with no arguments: a static registry is the only channel
 * from the code that starts a run to that module.
 */
final class RunRegistry {
  private static final RunRegistry GLOBAL = new RunRegistry();

  private final Map<String, RunSource> runs = new LinkedHashMap<>();

  static RunRegistry global() {
    return GLOBAL;
  }

  /** Adds a run under a URL-safe id taken from its directory name, made unique with a numeric suffix. */
  synchronized RunSource add(Path runDir, RunLifecycle lifecycle) {
    Path abs = runDir.toAbsolutePath().normalize();
    for (RunSource r : runs.values()) {
      if (r.dir().equals(abs) && r.lifecycle() == null && lifecycle == null) return r;
    }
    String base = idOf(abs);
    String id = base;
    for (int i = 2; runs.containsKey(id); i++) id = base + "-" + i;
    RunSource r = new RunSource(id, abs, lifecycle);
    runs.put(id, r);
    return r;
  }

  synchronized void remove(RunSource r) {
    runs.remove(r.id(), r);
  }

  synchronized List<RunSource> list() {
    return new ArrayList<>(runs.values());
  }

  synchronized RunSource get(String id) {
    return runs.get(id);
  }

  static String idOf(Path dir) {
    Path name = dir.getFileName();
    String s = name == null ? "run" : name.toString().replaceAll("[^A-Za-z0-9._-]", "_");
    return s.isEmpty() || s.startsWith(".") ? "run" + s : s;
  }
}
