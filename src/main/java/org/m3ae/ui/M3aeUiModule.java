package org.m3ae.ui;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.deeplearning4j.core.storage.StatsStorage;
import org.deeplearning4j.core.storage.StatsStorageEvent;
import org.deeplearning4j.ui.api.HttpMethod;
import org.deeplearning4j.ui.api.Route;
import org.deeplearning4j.ui.api.UIModule;
import org.deeplearning4j.ui.i18n.I18NResource;

/**
 * The project's page in the DL4J UI server ({@code /m3ae}): live charts of every metric a run writes, several runs
 * side by side, and each run's SameDiff graph.
 *
 * <p>Why a module of our own rather than (only) the stock Training tab: that tab is built around one "score", per-layer
 * parameter/update statistics of a {@code MultiLayerNetwork}/{@code ComputationGraph}, and one session at a time. A
 * distillation run has six loss terms, per-group learning rates, a mask ratio and validation metrics, and the point
 * is to compare teacher and students, KD on and off. SameDiff also writes no {@code StatsStorage}, so feeding that
 * tab would mean re-encoding our numbers into DL4J reports: a second copy that could drift. Here the numbers are the
 * lines of {@code metrics.jsonl} as written ({@link MetricsTail}), served verbatim.
 *
 * <p>Loaded by DL4J's server through {@link java.util.ServiceLoader}
 * ({@code META-INF/services/org.deeplearning4j.ui.api.UIModule}); the runs come from {@link RunRegistry}.
 */
public final class M3aeUiModule implements UIModule {
  static final String PAGE = "/m3ae";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SAMEDIFF_TEMPLATE = "templates/SameDiffUI.html";
  /** Lines per response: a long run's history comes in pieces, so no single reply holds up the event loop. */
  static final int MAX_LINES_PER_RESPONSE = 20_000;

  private static final Pattern WEBJAR_REF = Pattern.compile("/assets/webjars/([A-Za-z0-9._-]+)/([A-Za-z0-9._-]+)/([^\"'?#\\s]+)");

  private final RunRegistry registry;

  /** For ServiceLoader. */
  public M3aeUiModule() {
    this(RunRegistry.global());
  }

  M3aeUiModule(RunRegistry registry) {
    this.registry = registry;
  }

  @Override
  public List<Route> getRoutes() {
    return List.of(
        new Route(PAGE, HttpMethod.GET, (a, rc) -> page(rc)),
        new Route(PAGE + "/", HttpMethod.GET, (a, rc) -> page(rc)),
        new Route(PAGE + "/api/runs", HttpMethod.GET, (a, rc) -> runs(rc)),
        new Route(PAGE + "/api/runs/:run/metrics", HttpMethod.GET, (a, rc) -> metrics(a.get(0), rc)),
        new Route(PAGE + "/api/runs/:run/uilistener", HttpMethod.GET, (a, rc) -> uiListenerFile(a.get(0), rc)),
        new Route(PAGE + "/samediff/:run", HttpMethod.GET, (a, rc) -> sameDiffPage(a.get(0), rc)));
  }

  private void page(RoutingContext rc) {
    rc.response().putHeader("content-type", "text/html; charset=utf-8").putHeader("cache-control", "no-store")
        .end(resource("runs.html"));
  }

  private void runs(RoutingContext rc) {
    ObjectNode root = JSON.createObjectNode();
    root.put("serverTime", System.currentTimeMillis());
    ArrayNode arr = root.putArray("runs");
    for (RunSource r : registry.list()) {
      try {
        r.tail().poll();
      } catch (IOException e) {
        // the run is listed with what was read before; its error shows on the page
        arr.addObject().put("id", r.id()).put("error", e.toString());
        continue;
      }
      ObjectNode o = arr.addObject();
      o.put("id", r.id());
      o.put("dir", r.dir().toString());
      JsonNode info = r.runJson();
      o.set("info", info);
      o.put("lines", r.tail().size());
      o.put("rejectedLines", r.tail().rejected());
      o.put("generation", r.tail().generation());
      o.put("msSinceWrite", r.millisSinceLastWrite());
      String last = r.tail().lastLine();
      o.set("last", last == null ? null : readTree(last));
      RunLifecycle lc = r.lifecycle();
      if (lc == null) {
        o.put("live", false);
      } else {
        o.put("live", true);
        o.put("state", lc.state().name().toLowerCase());
        o.put("startStep", lc.startStep());
        o.put("totalSteps", lc.totalSteps());
        if (lc.checkpointStep() >= 0) {
          o.put("checkpointStep", lc.checkpointStep());
          o.put("checkpointDir", String.valueOf(lc.checkpointDir()));
        }
        if (lc.failure() != null) o.put("failure", lc.failure());
      }
      Path g = r.uiListenerFile();
      o.put("graphFile", g == null ? null : g.getFileName().toString());
    }
    json(rc, root.toString());
  }

  /**
   * {@code ?from=N&generation=G}: the lines from index N on, verbatim, at most {@link #MAX_LINES_PER_RESPONSE}
   * ({@code next < total}: ask again from {@code next}). A client whose generation differs (the file was rewritten by
   * a resume) gets everything from 0 again.
   */
  private void metrics(String id, RoutingContext rc) {
    RunSource r = registry.get(id);
    if (r == null) {
      plain(rc, 404, "no run '" + id + "'");
      return;
    }
    MetricsTail t = r.tail();
    List<String> lines;
    int from;
    int gen;
    int total;
    synchronized (t) {
      try {
        t.poll();
      } catch (IOException e) {
        plain(rc, 500, "cannot read " + t.file() + ": " + e);
        return;
      }
      gen = t.generation();
      from = intParam(rc, "from", 0);
      if (intParam(rc, "generation", gen) != gen) from = 0;
      lines = t.linesFrom(from);
      total = t.size();
    }
    if (lines.size() > MAX_LINES_PER_RESPONSE) lines = lines.subList(0, MAX_LINES_PER_RESPONSE);
    StringBuilder sb = new StringBuilder(64 + lines.size() * 320);
    sb.append("{\"generation\":").append(gen).append(",\"from\":").append(from)
        .append(",\"next\":").append(from + lines.size()).append(",\"total\":").append(total)
        .append(",\"rows\":[");
    for (int i = 0; i < lines.size(); i++) {
      if (i > 0) sb.append(',');
      sb.append(lines.get(i));
    }
    sb.append("]}");
    json(rc, sb.toString());
  }

  private void uiListenerFile(String id, RoutingContext rc) {
    RunSource r = registry.get(id);
    Path f = r == null ? null : r.uiListenerFile();
    if (f == null) {
      plain(rc, 404, "no SameDiff UIListener file for run '" + id + "'");
      return;
    }
    rc.response().putHeader("content-type", "application/octet-stream").putHeader("cache-control", "no-store")
        .sendFile(f.toString());
  }

  /**
   * DL4J's {@code /samediff} viewer only reads a file the user picks by hand; this serves the same page with a script
   * that fetches the run's UIListener file and hands it to the viewer's own loader.
   */
  private void sameDiffPage(String id, RoutingContext rc) {
    RunSource r = registry.get(id);
    Path f = r == null ? null : r.uiListenerFile();
    if (f == null) {
      plain(rc, 404, "no SameDiff UIListener file for run '" + id + "'");
      return;
    }
    String html = withResolvableWebjars(classpathText(SAMEDIFF_TEMPLATE, Thread.currentThread().getContextClassLoader()));
    String name = f.getFileName().toString();
    String script = "<script>window.addEventListener('load', function () {"
        + "fetch('" + PAGE + "/api/runs/" + id + "/uilistener').then(function (r) {"
        + " if (!r.ok) throw new Error('HTTP ' + r.status); return r.blob(); })"
        + ".then(function (b) { window.file = new File([b], " + jsString(name) + ");"
        + " var s = document.getElementById('selectedfile'); if (s) s.textContent = " + jsString("run " + id + ": " + name)
        + "; readGraphStructure(); })"
        + ".catch(function (e) { alert('cannot load the graph file: ' + e); }); });</script>";
    int at = html.lastIndexOf("</body>");
    html = at < 0 ? html + script : html.substring(0, at) + script + html.substring(at);
    rc.response().putHeader("content-type", "text/html; charset=utf-8").end(html);
  }

  /**
   * DL4J M2.1's SameDiff template asks for {@code webjars/webcola/3.3.8/...} while its dependencies bring webcola 3.4.0;
   * DL4J's asset route never answers a missing file, so the page never finishes loading (headless screenshots hang
   * on it). Each webjar path that is not on the classpath is pointed at the version that is, read from that webjar's
   * {@code pom.properties}.
   */
  static String withResolvableWebjars(String html) {
    ClassLoader cl = M3aeUiModule.class.getClassLoader();
    Matcher m = WEBJAR_REF.matcher(html);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String lib = m.group(1);
      String rest = m.group(3);
      String ref = m.group();
      if (cl.getResource("META-INF/resources/webjars/" + lib + "/" + m.group(2) + "/" + rest) == null) {
        String v = webjarVersion(cl, lib);
        if (v != null && cl.getResource("META-INF/resources/webjars/" + lib + "/" + v + "/" + rest) != null) {
          ref = "/assets/webjars/" + lib + "/" + v + "/" + rest;
        }
      }
      m.appendReplacement(out, Matcher.quoteReplacement(ref));
    }
    m.appendTail(out);
    return out.toString();
  }

  private static String webjarVersion(ClassLoader cl, String lib) {
    for (String group : new String[] {"org.webjars.npm", "org.webjars", "org.webjars.bower"}) {
      try (InputStream in = cl.getResourceAsStream("META-INF/maven/" + group + "/" + lib + "/pom.properties")) {
        if (in == null) continue;
        Properties p = new Properties();
        p.load(in);
        String v = p.getProperty("version");
        if (v != null) return v;
      } catch (IOException unreadable) {
        // try the next group
      }
    }
    return null;
  }

  private static void plain(RoutingContext rc, int status, String body) {
    rc.response().setStatusCode(status).putHeader("content-type", "text/plain; charset=utf-8").end(body);
  }

  private static void json(RoutingContext rc, String body) {
    rc.response().putHeader("content-type", "application/json").putHeader("cache-control", "no-store").end(body);
  }

  private static int intParam(RoutingContext rc, String name, int dflt) {
    String v = rc.request().getParam(name);
    if (v == null || v.isBlank()) return dflt;
    try {
      return Integer.parseInt(v.trim());
    } catch (NumberFormatException e) {
      return dflt;
    }
  }

  private static JsonNode readTree(String line) {
    try {
      return JSON.readTree(line);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // MetricsTail only keeps lines that parsed
    }
  }

  private static String jsString(String s) {
    try {
      return JSON.writeValueAsString(s).replace("</", "<\\/");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String resource(String name) {
    return classpathText("org/m3ae/ui/" + name, M3aeUiModule.class.getClassLoader());
  }

  private static String classpathText(String path, ClassLoader cl) {
    ClassLoader loader = cl != null ? cl : M3aeUiModule.class.getClassLoader();
    try (InputStream in = loader.getResourceAsStream(path)) {
      if (in == null) throw new IllegalStateException("missing resource " + path);
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public List<String> getCallbackTypeIDs() {
    return List.of(); // reads metrics.jsonl, never StatsStorage
  }

  @Override
  public void reportStorageEvents(Collection<StatsStorageEvent> events) {}

  @Override
  public void onAttach(StatsStorage statsStorage) {}

  @Override
  public void onDetach(StatsStorage statsStorage) {}

  @Override
  public List<I18NResource> getInternationalizationResources() {
    return List.of();
  }
}
