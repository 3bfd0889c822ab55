package org.m3ae.weights;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import net.razorvine.pickle.PickleException;

/**
 * Reads a file written by {@code torch.save} (torch ≥ 1.6 zip format: {@code <archive>/data.pkl}
 * plus one {@code <archive>/data/<key>} entry per storage) as a {@link TensorSource}, without
 * Python. The pickle is read with {@link TorchUnpickler}, which builds only tensors, storages and
 * OrderedDicts and refuses code-execution globals; the state dict is found by {@link
 * TorchStateDict}; tensor values are read from the zip entries when asked for, so opening a
 * 1.3 GB checkpoint costs the pickle, not the weights. The legacy pre-1.6 format is refused with
 * the fix (re-save with a current torch).
 */
public final class TorchCheckpointReader implements TensorSource {
  private static final byte[] ZIP_MAGIC = {'P', 'K', 3, 4};
  private static final int PICKLE_PROTO = 0x80;

  private final Path file;
  private final ZipFile zip;
  private final String prefix;
  private final Map<String, TorchTensorRef> tensors;

  private TorchCheckpointReader(Path file, ZipFile zip) throws IOException {
    this.file = file;
    this.zip = zip;
    ZipEntry pkl = dataPkl();
    String name = pkl.getName();
    this.prefix = name.substring(0, name.length() - "data.pkl".length());
    if (zip.getEntry(prefix + "constants.pkl") != null) {
      throw fail("a TorchScript archive (torch.jit.save), not a state dict; in Python, torch.save(model.state_dict(), f)");
    }
    checkByteOrder();
    Object root;
    try (InputStream in = new BufferedInputStream(zip.getInputStream(pkl), 1 << 16)) {
      root = new TorchUnpickler(file + " (" + name + ")").load(in);
    } catch (PickleException | ClassCastException | IndexOutOfBoundsException | IllegalStateException e) {
      throw fail(name + " cannot be unpickled: " + e);
    }
    this.tensors = TorchStateDict.find(root, file.toString());
    for (Map.Entry<String, TorchTensorRef> e : tensors.entrySet()) validate(e.getKey(), e.getValue());
  }

  /** Opens {@code file}; a {@link WeightsException} names the file for anything it cannot read. */
  public static TorchCheckpointReader open(Path file) {
    checkMagic(file);
    ZipFile zip;
    try {
      zip = new ZipFile(file.toFile());
    } catch (ZipException e) {
      throw new WeightsException(file + ": not a readable torch.save zip archive: " + e.getMessage(), e);
    } catch (IOException e) {
      throw new WeightsException(file + ": cannot read: " + e.getMessage(), e);
    }
    try {
      return new TorchCheckpointReader(file, zip);
    } catch (IOException | RuntimeException e) {
      closeQuietly(zip);
      if (e instanceof WeightsException w) throw w;
      throw new WeightsException(file + ": cannot read: " + e.getMessage(), e);
    }
  }

  private static void checkMagic(Path file) {
    byte[] head = new byte[4];
    try (InputStream in = Files.newInputStream(file)) {
      int n = in.readNBytes(head, 0, 4);
      if (n == 4 && java.util.Arrays.equals(head, ZIP_MAGIC)) return;
      if (n >= 1 && (head[0] & 0xFF) == PICKLE_PROTO) {
        throw new WeightsException(file + ": legacy torch.save format (written by torch < 1.6 or with "
            + "_use_new_zipfile_serialization=False), which is not read; re-save it with torch >= 1.6: "
            + "torch.save(torch.load(f, map_location='cpu'), f2)");
      }
      throw new WeightsException(file + ": not a torch.save file (no zip archive)");
    } catch (IOException e) {
      throw new WeightsException(file + ": cannot read: " + e.getMessage(), e);
    }
  }

  /** The one {@code <archive>/data.pkl}: torch names the archive folder after the file (or "archive"). */
  private ZipEntry dataPkl() {
    List<ZipEntry> found = new ArrayList<>();
    for (Enumeration<? extends ZipEntry> en = zip.entries(); en.hasMoreElements(); ) {
      ZipEntry e = en.nextElement();
      String n = e.getName();
      if (n.endsWith("/data.pkl") && n.indexOf('/') == n.length() - "/data.pkl".length()) found.add(e);
    }
    if (found.size() != 1) {
      throw fail(found.isEmpty() ? "zip archive without <archive>/data.pkl: not written by torch.save"
          : "zip archive with " + found.size() + " data.pkl entries");
    }
    return found.get(0);
  }

  private void checkByteOrder() throws IOException {
    ZipEntry bo = zip.getEntry(prefix + "byteorder");
    if (bo == null) return; // torch < 2.1 wrote none; it ran on little-endian machines only
    try (InputStream in = zip.getInputStream(bo)) {
      String order = new String(in.readNBytes(16), StandardCharsets.US_ASCII).trim();
      if (!order.equals("little")) throw fail("storages are " + order + "-endian; only little-endian is read");
    }
  }

  private void validate(String key, TorchTensorRef t) {
    ZipEntry e = zip.getEntry(prefix + "data/" + t.storage().key());
    if (e == null) throw fail("key '" + key + "': storage " + t.storage().key() + " is not in the archive");
    long need = Math.multiplyExact(t.storage().numel(), (long) t.storage().dtype().size);
    if (e.getSize() >= 0 && e.getSize() < need) {
      throw fail("key '" + key + "': storage " + t.storage().key() + " holds " + e.getSize() + " bytes, the "
          + "pickle says " + t.storage().numel() + " × " + t.storage().dtype().size);
    }
    if (t.lastIndex() >= t.storage().numel()) {
      throw fail("key '" + key + "': view (offset " + t.offset() + ", size " + java.util.Arrays.toString(t.size())
          + ", stride " + java.util.Arrays.toString(t.stride()) + ") reaches past its storage of "
          + t.storage().numel() + " elements");
    }
  }

  private WeightsException fail(String msg) {
    return new WeightsException(file + ": " + msg);
  }

  private TorchTensorRef tensor(String key) {
    TorchTensorRef t = tensors.get(key);
    if (t == null) throw fail("no tensor named '" + key + "'");
    return t;
  }

  /** The view's description (storage, offset, size, stride); for tests. */
  TorchTensorRef view(String key) {
    return tensor(key);
  }

  @Override
  public String origin() {
    return file.toString();
  }

  @Override
  public List<String> keys() {
    return Collections.unmodifiableList(new ArrayList<>(tensors.keySet()));
  }

  @Override
  public boolean contains(String key) {
    return tensors.containsKey(key);
  }

  @Override
  public long[] shape(String key) {
    return tensor(key).size().clone();
  }

  /** The element type of the tensor's storage, in safetensors' names (e.g. {@code "BF16"}). */
  public String dtype(String key) {
    return tensor(key).storage().dtype().name();
  }

  @Override
  public float[] readFloats(String key) {
    TorchTensorRef t = tensor(key);
    String what = file + ": key '" + key + "'";
    ZipEntry e = zip.getEntry(prefix + "data/" + t.storage().key());
    try (InputStream in = zip.getInputStream(e)) {
      return TorchTensorData.read(in, t, what);
    } catch (IOException ex) {
      throw new WeightsException(what + ": cannot read: " + ex.getMessage(), ex);
    }
  }

  @Override
  public void close() {
    closeQuietly(zip);
  }

  private static void closeQuietly(ZipFile z) {
    try {
      z.close();
    } catch (IOException ignored) {
      // read-only: nothing to flush
    }
  }
}
