package org.m3ae.ui;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.m3ae.ui.UiTestSupport.assertNoUiThreads;
import static org.m3ae.ui.UiTestSupport.assertPortFree;
import static org.m3ae.ui.UiTestSupport.get;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import org.deeplearning4j.ui.VertxUIServer;
import org.junit.jupiter.api.Test;

/** DL4J's UI server is a JVM singleton: stop, restart, sharing and a taken port, all in one JVM. */
class UiServerLifecycleTest {

  @Test
  void restartsOnTheSamePortInOneJvm() throws Exception {
    UiServer first = UiServer.acquire("localhost", 0);
    int port = first.port();
    assertEquals(200, get(port, "/m3ae/api/runs").status());
    first.release();
    assertPortFree(port);

    UiServer second = UiServer.acquire("localhost", port);
    try {
      assertEquals(port, second.port());
      assertEquals(200, get(port, "/m3ae/api/runs").status());
      assertSame(VertxUIServer.getInstance(), VertxUIServer.getInstance(), "one DL4J instance");
    } finally {
      second.release();
    }
    assertPortFree(port);
    assertNoUiThreads();
  }

  @Test
  void sharedByUsersUntilTheLastReleases() throws Exception {
    UiServer a = UiServer.acquire("localhost", 0);
    UiServer b = UiServer.acquire("localhost", a.port());
    assertSame(a, b);
    IllegalStateException other = assertThrows(IllegalStateException.class, () -> UiServer.acquire("127.0.0.2", 0));
    assertTrue(other.getMessage().contains("one per JVM"), other.getMessage());
    a.release();
    assertEquals(200, get(b.port(), "/m3ae").status(), "still served: one user left");
    b.release();
    assertPortFree(b.port());
    assertNoUiThreads();
  }

  @Test
  void aTakenPortFailsWithItsReasonAndLeavesNothingRunning() throws Exception {
    try (ServerSocket taken = new ServerSocket()) {
      taken.bind(new InetSocketAddress(InetAddress.getByName("localhost"), 0));
      IllegalStateException e =
          assertThrows(IllegalStateException.class, () -> UiServer.acquire("localhost", taken.getLocalPort()));
      assertTrue(e.getMessage().contains(String.valueOf(taken.getLocalPort())), e.getMessage());
    }
    assertNoUiThreads();
    UiServer after = UiServer.acquire("localhost", 0); // the failed start left DL4J's singleton usable
    after.release();
    assertNoUiThreads();
  }
}
