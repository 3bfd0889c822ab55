package org.m3ae.ui;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.deeplearning4j.ui.VertxUIServer;

/** HTTP reads and leak checks shared by the UI tests. */
final class UiTestSupport {
  static final ObjectMapper JSON = new ObjectMapper();

  private UiTestSupport() {}

  record Response(int status, String contentType, byte[] body) {
    String text() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  static Response get(int port, String path) throws IOException {
    HttpURLConnection c = (HttpURLConnection) new URL("http://localhost:" + port + path).openConnection();
    c.setConnectTimeout(5000);
    c.setReadTimeout(10000);
    int status = c.getResponseCode();
    InputStream in = status < 400 ? c.getInputStream() : c.getErrorStream();
    byte[] body = in == null ? new byte[0] : in.readAllBytes();
    if (in != null) in.close();
    c.disconnect();
    return new Response(status, c.getContentType(), body);
  }

  static JsonNode getJson(int port, String path) throws IOException {
    Response r = get(port, path);
    assertEquals(200, r.status(), path + ": " + r.text());
    return JSON.readTree(r.body());
  }

  static void await(String what, long timeoutMs, BooleanSupplier cond) throws InterruptedException {
    long deadline = System.currentTimeMillis() + timeoutMs;
    while (!cond.getAsBoolean()) {
      if (System.currentTimeMillis() > deadline) fail("timed out waiting for " + what);
      Thread.sleep(25);
    }
  }

  /** The port can be bound again on loopback: nothing of ours listens there any more. */
  static void assertPortFree(int port) {
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    } catch (IOException e) {
      fail("port " + port + " is still bound after the UI stopped: " + e);
    }
  }

  /** Vert.x threads that would keep the JVM alive, and DL4J's UI event-routing thread, must all be gone. */
  static void assertNoUiThreads() {
    List<String> alive = new ArrayList<>();
    for (var e : Thread.getAllStackTraces().entrySet()) {
      Thread t = e.getKey();
      if (!t.isAlive()) continue;
      boolean router = false;
      for (StackTraceElement f : e.getValue()) {
        if (f.getClassName().startsWith(VertxUIServer.class.getName())) router = true;
      }
      if (router || (t.getName().startsWith("vert.x-") && !t.isDaemon())) alive.add(t.getName() + (t.isDaemon() ? " (daemon)" : ""));
    }
    assertTrue(alive.isEmpty(), "UI threads still alive after stop: " + alive);
  }
}
