package org.m3ae.ui;

import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.deeplearning4j.ui.VertxUIServer;

/**
 * DL4J's own UI server (every stock page and every {@code UIModule} found by ServiceLoader), listening on a chosen
 * host and port.
 *
 * <p>Why a subclass: in 1.0.0-M2.1 {@code VertxUIServer.start} calls {@code vertx.createHttpServer().listen(port, ..)},
 * which binds all interfaces (0.0.0.0), and its port comes from a private static or an environment variable. A
 * training box would then publish the UI to its whole network. The server reaches the network only through the
 * {@code vertx} field a verticle receives in {@link #init}, so this class hands it a view of Vert.x whose HTTP servers
 * listen on {@link #host}:{@link #port} instead. Everything else is DL4J's code, unchanged. If a later DL4J binds
 * through another call, {@link #boundAsAsked()} stays false and {@link UiServer} refuses to run rather than expose it.
 */
final class HostBoundUIServer extends VertxUIServer {
  private final String host;
  private final int port;
  private final AtomicBoolean boundAsAsked = new AtomicBoolean();

  HostBoundUIServer(String host, int port) {
    this.host = host;
    this.port = port;
  }

  @Override
  public void init(Vertx vertx, Context context) {
    super.init(redirectingVertx(vertx), context);
  }

  boolean boundAsAsked() {
    return boundAsAsked.get();
  }

  private Vertx redirectingVertx(Vertx real) {
    return proxy(real, (self, m, args) -> {
      Object r = call(real, m, args);
      return r instanceof HttpServer s ? redirectingServer(s) : r;
    });
  }

  private HttpServer redirectingServer(HttpServer real) {
    return proxy(real, (self, m, args) -> {
      if (m.getName().equals("listen") && args != null && args.length == 2 && args[0] instanceof Integer
          && args[1] instanceof Handler) {
        @SuppressWarnings("unchecked")
        Handler<AsyncResult<HttpServer>> h = (Handler<AsyncResult<HttpServer>>) args[1];
        boundAsAsked.set(true);
        real.listen(port, host, h);
        return self;
      }
      Object r = call(real, m, args);
      return r == real ? self : r; // keep fluent calls on the view
    });
  }

  @SuppressWarnings("unchecked")
  private static <T> T proxy(T target, InvocationHandler h) {
    Set<Class<?>> ifaces = new LinkedHashSet<>();
    for (Class<?> c = target.getClass(); c != null; c = c.getSuperclass()) collect(c, ifaces);
    return (T) Proxy.newProxyInstance(HostBoundUIServer.class.getClassLoader(), ifaces.toArray(Class<?>[]::new), h);
  }

  private static void collect(Class<?> c, Set<Class<?>> out) {
    for (Class<?> i : c.getInterfaces()) {
      if (java.lang.reflect.Modifier.isPublic(i.getModifiers()) && out.add(i)) collect(i, out);
    }
  }

  private static Object call(Object target, Method m, Object[] args) throws Throwable {
    try {
      return m.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }
}
