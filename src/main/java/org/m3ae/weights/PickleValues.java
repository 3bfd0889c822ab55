package org.m3ae.weights;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import net.razorvine.pickle.IObjectConstructor;

/**
 * What {@link TorchUnpickler} builds for Python objects that are not tensors: plain data, never
 * behaviour. A checkpoint's non-weight entries (Lightning's hyper_parameters, callback states)
 * may hold instances of arbitrary Python classes; they are recorded by class name so that
 * loading does not break, and nothing of them is ever called or mapped onto a Java class.
 */
final class PickleValues {
  private PickleValues() {}

  /** The target of pickle's BUILD opcode: takes the pickled state as data. */
  interface Buildable {
    void setState(Object state);
  }

  /**
   * A GLOBAL outside the allowlist: only a name. Calling it (REDUCE, NEWOBJ) yields a {@link
   * PyObject} that records the call; no code runs.
   */
  record PyGlobal(String module, String name) implements IObjectConstructor {
    String dotted() {
      return module + "." + name;
    }

    @Override
    public Object construct(Object[] args) {
      return new PyObject(this, args);
    }
  }

  /**
   * The recorded result of calling a {@link PyGlobal}: its class (or function) name, arguments and
   * state, and the items pickle adds to instances of dict or list subclasses.
   */
  static final class PyObject implements Buildable {
    final PyGlobal type;
    final Object[] args;
    final Map<Object, Object> items = new LinkedHashMap<>();
    final List<Object> elements = new ArrayList<>();
    Object state;

    PyObject(PyGlobal type, Object[] args) {
      this.type = type;
      this.args = args;
    }

    @Override
    public void setState(Object state) {
      this.state = state;
    }
  }

  /**
   * {@code collections.OrderedDict}: a state_dict keeps its key order. PyTorch attaches a {@code
   * _metadata} attribute (module versions) through BUILD; it is kept aside, not mixed into the items.
   */
  static final class PyDict extends LinkedHashMap<Object, Object> implements Buildable {
    private static final long serialVersionUID = 1L;
    Object attributes;

    @Override
    public void setState(Object state) {
      this.attributes = state;
    }
  }

  /** How a value reads in an error message, in Python's terms. */
  static String describe(Object v) {
    if (v == null) return "None";
    if (v instanceof PyObject o) return "an object built by " + o.type.dotted() + " (recorded, not run)";
    if (v instanceof PyGlobal g) return "a reference to " + g.dotted();
    if (v instanceof TorchTensorRef) return "a tensor";
    if (v instanceof Map) return "a dict";
    if (v instanceof List) return "a list";
    if (v instanceof Object[]) return "a tuple";
    if (v instanceof String) return "a str";
    if (v instanceof Boolean) return "a bool";
    if (v instanceof Double || v instanceof Float) return "a float";
    if (v instanceof Number) return "an int";
    return "a " + v.getClass().getSimpleName();
  }
}
