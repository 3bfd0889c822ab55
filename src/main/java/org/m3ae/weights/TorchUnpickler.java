package org.m3ae.weights;

import java.io.IOException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import net.razorvine.pickle.PickleUtils;
import net.razorvine.pickle.Unpickler;
import org.m3ae.weights.PickleValues.Buildable;
import org.m3ae.weights.PickleValues.PyObject;
import org.m3ae.weights.TorchGlobals.StorageType;

/**
 * Pyrolite's unpickler with every opcode that names or instantiates a class routed through {@link
 * TorchGlobals}. Pyrolite by default looks a GLOBAL up in its static constructor registry and
 * turns unknown classes into {@code ClassDict}s, and BUILD calls {@code __setstate__} on the Java
 * object by reflection; here GLOBAL/STACK_GLOBAL never reach that registry, BUILD only feeds
 * {@link Buildable} values, and the protocol-0/1 instance opcodes and copyreg extension codes
 * (which torch.save does not write) are refused. Everything else (numbers, strings, tuples,
 * lists, dicts, memo) is Pyrolite's.
 */
final class TorchUnpickler extends Unpickler {
  private static final short GLOBAL = 'c';
  private static final short STACK_GLOBAL = 0x93;
  private static final short INST = 'i';
  private static final short OBJ = 'o';
  private static final short BUILD = 'b';
  private static final short EMPTY_DICT = '}';
  private static final short SETITEM = 's';
  private static final short SETITEMS = 'u';
  private static final short APPEND = 'a';
  private static final short APPENDS = 'e';
  private static final short EXT1 = 0x82;
  private static final short EXT2 = 0x83;
  private static final short EXT4 = 0x84;

  private final String origin;
  private final TorchGlobals globals;
  private final Map<String, TorchTensorRef.Storage> storages = new HashMap<>();

  /** {@code origin}: the file and the pickle's entry, for messages. */
  TorchUnpickler(String origin) {
    this.origin = origin;
    this.globals = new TorchGlobals(origin);
  }

  @Override
  protected Object dispatch(short key) throws IOException {
    switch (key) {
      case GLOBAL -> {
        String module = PickleUtils.readline(input);
        String name = PickleUtils.readline(input);
        stack.add(globals.resolve(module, name));
      }
      case STACK_GLOBAL -> {
        Object name = stack.pop();
        Object module = stack.pop();
        if (!(module instanceof String m) || !(name instanceof String n)) {
          throw fail("STACK_GLOBAL on " + PickleValues.describe(module) + " / " + PickleValues.describe(name));
        }
        stack.add(globals.resolve(m, n));
      }
      case INST, OBJ -> throw fail("protocol-0/1 instance opcode '" + (char) key + "' (torch.save writes protocol 2)");
      case EXT1, EXT2, EXT4 -> throw fail("copyreg extension code (opcode 0x" + Integer.toHexString(key) + ")");
      case BUILD -> {
        Object state = stack.pop();
        Object target = stack.peek();
        if (!(target instanceof Buildable b)) {
          throw fail("BUILD on " + PickleValues.describe(target) + "; only recorded objects and OrderedDicts take state");
        }
        b.setState(state);
      }
      // Python dicts keep insertion order, and keys() promises file order: Pyrolite's dicts are HashMaps and its
      // SETITEMS collects the pairs in one before adding them, so both are replaced by order-keeping versions.
      case EMPTY_DICT -> stack.add(new LinkedHashMap<>());
      case SETITEM -> {
        Object value = stack.pop();
        Object k = stack.pop();
        dictOf(stack.peek()).put(k, value);
      }
      case SETITEMS -> {
        List<Object> kv = stack.pop_all_since_marker();
        if (kv.size() % 2 != 0) throw fail("SETITEMS with an odd number (" + kv.size() + ") of values");
        Map<Object, Object> target = dictOf(stack.peek());
        for (int i = 0; i < kv.size(); i += 2) target.put(kv.get(i), kv.get(i + 1));
      }
      case APPEND -> {
        Object value = stack.pop();
        listOf(stack.peek()).add(value);
      }
      case APPENDS -> {
        List<Object> values = stack.pop_all_since_marker();
        listOf(stack.peek()).addAll(values);
      }
      default -> {
        return super.dispatch(key);
      }
    }
    return NO_RETURN_VALUE;
  }

  /** torch.save's persistent id of a storage: {@code ('storage', torch.<T>Storage, key, location, numel)}. */
  @Override
  protected Object persistentLoad(Object pid) {
    if (!(pid instanceof Object[] t) || t.length != 5 || !"storage".equals(t[0])) {
      throw fail("persistent id " + PickleValues.describe(pid) + " is not ('storage', type, key, location, numel)");
    }
    if (!(t[1] instanceof StorageType type)) {
      throw fail("storage of type " + PickleValues.describe(t[1]) + " (supported: float32, float16, bfloat16, "
          + "float64 and integer/bool storages)");
    }
    if (!(t[2] instanceof String key) || !(t[4] instanceof Number numel) || numel.longValue() < 0) {
      throw fail("persistent id with key " + t[2] + " and numel " + t[4]);
    }
    TorchTensorRef.Storage s = storages.computeIfAbsent(key,
        k -> new TorchTensorRef.Storage(k, type.dtype(), numel.longValue()));
    if (s.dtype() != type.dtype() || s.numel() != numel.longValue()) {
      throw fail("storage " + key + " is named as " + s.dtype() + "×" + s.numel() + " and as " + type.dtype()
          + "×" + numel);
    }
    return s;
  }

  /** The items of a dict, or of a recorded dict subclass instance (Lightning's AttributeDict). */
  @SuppressWarnings("unchecked")
  private Map<Object, Object> dictOf(Object target) {
    if (target instanceof PyObject o) return o.items;
    if (target instanceof Map<?, ?> m) return (Map<Object, Object>) m;
    throw fail("dict items added to " + PickleValues.describe(target));
  }

  @SuppressWarnings("unchecked")
  private List<Object> listOf(Object target) {
    if (target instanceof PyObject o) return o.elements;
    if (target instanceof List<?> l) return (List<Object>) l;
    throw fail("list items added to " + PickleValues.describe(target));
  }

  private WeightsException fail(String msg) {
    return new WeightsException(origin + ": malformed checkpoint pickle: " + msg);
  }
}
