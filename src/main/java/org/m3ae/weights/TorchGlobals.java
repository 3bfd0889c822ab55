package org.m3ae.weights;

import java.util.List;
import java.util.Map;
import java.util.Set;
import net.razorvine.pickle.IObjectConstructor;
import org.m3ae.weights.PickleValues.PyDict;
import org.m3ae.weights.PickleValues.PyGlobal;

/**
 * What a GLOBAL in a checkpoint's pickle may stand for. Three outcomes:
 *
 * <ul>
 *   <li>the allowlist: the few callables a state_dict is made of ({@code _rebuild_tensor_v2},
 *       {@code _rebuild_parameter}, {@code collections.OrderedDict}) and the typed storage
 *       classes of persistent ids, implemented here in Java;
 *   <li>refused: names of code-execution primitives ({@code os.system}, {@code builtins.eval},
 *       {@code subprocess.Popen}, …). No checkpoint needs them, and {@code torch.load} would call
 *       them, so a file that names one is hostile and is rejected outright;
 *   <li>anything else: an inert {@link PyGlobal} (a name), so that Lightning's hyper_parameters or
 *       callback states with arbitrary classes still load. {@link TorchStateDict} refuses such a
 *       value inside the state dict itself.
 * </ul>
 *
 * Safety does not rest on the refusal list: nothing outside the allowlist is ever executed. The
 * list only turns a hostile file into a clear error instead of a quiet load.
 */
final class TorchGlobals {

  static final String REBUILD_TENSOR = "torch._utils._rebuild_tensor_v2";
  static final Set<String> REBUILD_PARAMETER =
      Set.of("torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state");
  static final String ORDERED_DICT = "collections.OrderedDict";

  /** {@code torch.<Type>Storage} in persistent ids, by element type. */
  private static final Map<String, SafetensorsDType> STORAGES = Map.of(
      "FloatStorage", SafetensorsDType.F32, "HalfStorage", SafetensorsDType.F16,
      "BFloat16Storage", SafetensorsDType.BF16, "DoubleStorage", SafetensorsDType.F64,
      "LongStorage", SafetensorsDType.I64, "IntStorage", SafetensorsDType.I32,
      "ShortStorage", SafetensorsDType.I16, "CharStorage", SafetensorsDType.I8,
      "ByteStorage", SafetensorsDType.U8, "BoolStorage", SafetensorsDType.BOOL);

  /** Top-level modules whose members run code, touch the system or resolve other names. */
  private static final Set<String> REFUSED_MODULES = Set.of(
      "os", "posix", "nt", "subprocess", "sys", "builtins", "__builtin__", "importlib", "runpy", "shutil",
      "socket", "pty", "ctypes", "pickle", "_pickle", "marshal", "code", "codeop", "pdb", "bdb", "webbrowser",
      "commands", "platform", "multiprocessing", "signal", "types", "operator", "functools", "inspect", "io",
      "_io", "tempfile", "threading", "_thread", "asyncio", "timeit", "trace", "profile", "cProfile",
      "posixpath", "ntpath", "zipimport", "pkgutil", "site", "ensurepip", "venv", "dill", "joblib");

  /** Submodules of allowed packages that load or run code. */
  private static final List<String> REFUSED_PREFIXES = List.of(
      "torch.hub", "torch.jit", "torch.serialization", "torch.ops", "torch.utils.cpp_extension",
      "torch.package", "torch._C", "numpy.load", "numpy.lib.npyio", "numpy.testing", "numpy.f2py",
      "numpy.distutils", "numpy.ctypeslib");

  /** builtins that are plain data types: Python 3 pickles them by name under protocol 2. */
  private static final Set<String> DATA_BUILTINS =
      Set.of("set", "frozenset", "slice", "complex", "bytearray", "range", "object");

  /** A storage class named in a persistent id; not callable. */
  record StorageType(String name, SafetensorsDType dtype) implements IObjectConstructor {
    @Override
    public Object construct(Object[] args) {
      throw new WeightsException("torch." + name + " is called directly; torch.save writes storages only "
          + "as persistent ids");
    }
  }

  private final String origin;

  TorchGlobals(String origin) {
    this.origin = origin;
  }

  /** The value a GLOBAL {@code module.name} pushes, or a {@link WeightsException} refusing it. */
  Object resolve(String module, String name) {
    String dotted = module + "." + name;
    if (dotted.equals(REBUILD_TENSOR)) return (IObjectConstructor) this::rebuildTensor;
    if (REBUILD_PARAMETER.contains(dotted)) return (IObjectConstructor) args -> rebuildParameter(dotted, args);
    if (dotted.equals(ORDERED_DICT)) return (IObjectConstructor) this::orderedDict;
    if (module.equals("torch") && STORAGES.containsKey(name)) return new StorageType(name, STORAGES.get(name));
    if (refused(module, name)) {
      throw new WeightsException(origin + ": refusing the pickle: it names the global " + dotted
          + ", which no checkpoint needs and which torch.load would execute. Nothing was run. Do not "
          + "load this file in Python either (docs/weights.md, \"PyTorch checkpoints\")");
    }
    return new PyGlobal(module, name);
  }

  static boolean refused(String module, String name) {
    String top = module.contains(".") ? module.substring(0, module.indexOf('.')) : module;
    if ((top.equals("builtins") || top.equals("__builtin__")) && module.equals(top)) {
      return !DATA_BUILTINS.contains(name);
    }
    if (REFUSED_MODULES.contains(top)) return true;
    String dotted = module + "." + name;
    for (String p : REFUSED_PREFIXES) {
      if (dotted.equals(p) || dotted.startsWith(p + ".") || module.equals(p)) return true;
    }
    return false;
  }

  /** {@code _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])}. */
  private Object rebuildTensor(Object[] args) {
    if (args.length < 6 || args.length > 7) throw bad(REBUILD_TENSOR + " with " + args.length + " arguments");
    if (!(args[0] instanceof TorchTensorRef.Storage storage)) {
      throw bad(REBUILD_TENSOR + " on " + PickleValues.describe(args[0]) + " instead of a storage");
    }
    long offset = nonNegative(args[1], "storage offset");
    long[] size = longs(args[2], "size");
    long[] stride = longs(args[3], "stride");
    if (size.length != stride.length) {
      throw bad(REBUILD_TENSOR + " with " + size.length + " sizes but " + stride.length + " strides");
    }
    return new TorchTensorRef(storage, offset, size, stride);
  }

  /** nn.Parameter around a tensor: the tensor is what counts (requires_grad and hooks do not). */
  private Object rebuildParameter(String dotted, Object[] args) {
    if (args.length < 1 || !(args[0] instanceof TorchTensorRef t)) {
      throw bad(dotted + " on " + (args.length == 0 ? "nothing" : PickleValues.describe(args[0])));
    }
    return t;
  }

  /** {@code OrderedDict()} (items follow by SETITEMS) or {@code OrderedDict([(k, v), …])}. */
  private Object orderedDict(Object[] args) {
    PyDict d = new PyDict();
    if (args.length == 0) return d;
    if (args.length == 1 && args[0] instanceof List<?> pairs) {
      for (Object p : pairs) {
        if (!(p instanceof Object[] kv) || kv.length != 2) throw bad(ORDERED_DICT + " from a list of non-pairs");
        d.put(kv[0], kv[1]);
      }
      return d;
    }
    throw bad(ORDERED_DICT + " with " + args.length + " arguments");
  }

  private long nonNegative(Object v, String what) {
    if (!(v instanceof Number n) || v instanceof Double || v instanceof Float || n.longValue() < 0) {
      throw bad("tensor " + what + " " + v + " is not a non-negative int");
    }
    return n.longValue();
  }

  private long[] longs(Object v, String what) {
    if (!(v instanceof Object[] a)) throw bad("tensor " + what + " is " + PickleValues.describe(v) + ", not a tuple");
    long[] out = new long[a.length];
    for (int i = 0; i < a.length; i++) out[i] = nonNegative(a[i], what);
    return out;
  }

  private WeightsException bad(String msg) {
    return new WeightsException(origin + ": malformed checkpoint pickle: " + msg);
  }
}
