package org.m3ae.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link TorchCheckpointReader} on files written by real PyTorch (scripts/fixtures/make_ckpt_fixtures.py; CI only
 * reads them): values equal to the safetensors twin or to torch's own float32 widening, bit for bit; strided views;
 * the Lightning wrapper; and hostile or unsupported pickles refused with the file and the global named.
 */
class TorchCheckpointReaderTest {
  static final Path DIR = Path.of("src/test/resources/ckpt");
  /** What the malicious fixtures' payloads would create if anything ran them. */
  private static final Path MARKER = Path.of("/tmp/m3ae-ckpt-fixture-payload-ran");

  /** Same keys in the same order, same shapes, and the same float32 bits. */
  static void assertSameTensors(TensorSource expected, TensorSource got) {
    assertEquals(expected.keys(), got.keys());
    for (String k : expected.keys()) {
      assertArrayEquals(expected.shape(k), got.shape(k), k);
      float[] e = expected.readFloats(k);
      float[] g = got.readFloats(k);
      assertEquals(e.length, g.length, k);
      for (int i = 0; i < e.length; i++) {
        if (Float.floatToRawIntBits(e[i]) != Float.floatToRawIntBits(g[i])) {
          throw new AssertionError(k + "[" + i + "]: expected " + e[i] + ", got " + g[i]);
        }
      }
    }
  }

  private static void assertSameAsTwin(String file) {
    try (SafetensorsReader twin = SafetensorsReader.open(DIR.resolve("micro-m3ae.safetensors"));
        TensorSource ckpt = TensorSources.open(DIR.resolve(file))) {
      assertInstanceOf(TorchCheckpointReader.class, ckpt);
      assertTrue(twin.keys().size() > 150, "fixture has " + twin.keys().size() + " keys");
      assertSameTensors(twin, ckpt);
    }
  }

  @Test
  void float32CheckpointEqualsItsSafetensorsTwin() {
    assertSameAsTwin("micro-m3ae.pt");
    try (TorchCheckpointReader r = TorchCheckpointReader.open(DIR.resolve("micro-m3ae.pt"))) {
      assertEquals("F32", r.dtype("vision_encoder.visual.conv1.weight"));
      assertEquals("I64", r.dtype("language_encoder.embeddings.position_ids")); // a buffer: exposed, reported unused
      assertInstanceOf(M3aeKeyMap.class, TensorSources.keyMapFor(r));
    }
  }

  @Test
  void float16CheckpointWidensToTheSameValues() {
    assertSameAsTwin("micro-m3ae-fp16.pt");
    try (TorchCheckpointReader r = TorchCheckpointReader.open(DIR.resolve("micro-m3ae-fp16.pt"))) {
      assertEquals("F16", r.dtype("vision_encoder.visual.conv1.weight"));
    }
  }

  /** The state dict under "state_dict", next to optimizer states, callbacks keyed by a class, and hyper_parameters
   * holding an argparse.Namespace and a class the reader does not know: only the weights come out. */
  @Test
  void lightningCheckpointIsUnwrapped() {
    assertSameAsTwin("micro-m3ae-lightning.ckpt");
  }

  @Test
  void float16AndBfloat16AndIntegerStoragesWidenAsTorchDoes() {
    try (SafetensorsReader want = SafetensorsReader.open(DIR.resolve("dtypes-expected.safetensors"));
        TorchCheckpointReader got = TorchCheckpointReader.open(DIR.resolve("dtypes.pt"))) {
      assertSameTensors(want, got);
      assertEquals("F16", got.dtype("f16"));
      assertEquals("BF16", got.dtype("bf16"));
      assertEquals("I64", got.dtype("i64"));
      assertEquals("BOOL", got.dtype("bool"));
      float[] f16 = got.readFloats("f16");
      assertTrue(Float.isNaN(f16[f16.length - 1]) && Float.isInfinite(f16[f16.length - 2]));
      assertEquals(0x80000000, Float.floatToRawIntBits(f16[1])); // -0.0 keeps its sign
      assertEquals(0x1p-24f, f16[8]); // the smallest float16 subnormal
    }
  }

  @Test
  void stridesAndStorageOffsetsAreHonoured() {
    try (SafetensorsReader want = SafetensorsReader.open(DIR.resolve("views-expected.safetensors"));
        TorchCheckpointReader got = TorchCheckpointReader.open(DIR.resolve("views.pt"))) {
      // The fixture really holds the views it claims to.
      assertFalse(got.view("transposed").contiguous());
      assertEquals(23, got.view("sliced").offset());
      assertArrayEquals(new long[] {20, 3}, got.view("stepped").stride());
      assertArrayEquals(new long[] {0, 1}, got.view("expanded").stride());
      assertFalse(got.view("channels_last").contiguous());
      assertEquals(got.view("base").storage(), got.view("sliced").storage());
      assertArrayEquals(new long[0], got.shape("scalar"));
      assertSameTensors(want, got);
    }
  }

  @Test
  void aRecompressedArchiveReadsTheSame(@TempDir Path dir) throws IOException {
    Path deflated = dir.resolve("deflated.pt");
    copyArchive(DIR.resolve("views.pt"), deflated, null);
    try (SafetensorsReader want = SafetensorsReader.open(DIR.resolve("views-expected.safetensors"));
        TorchCheckpointReader got = TorchCheckpointReader.open(deflated)) {
      assertSameTensors(want, got);
    }
  }

  @Test
  void osSystemInTheHyperParametersIsRefusedAndNothingRuns() throws IOException {
    Files.deleteIfExists(MARKER);
    Path f = DIR.resolve("malicious-os-system.pt");
    WeightsException e = assertThrows(WeightsException.class, () -> TensorSources.open(f));
    assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
    assertTrue(e.getMessage().contains("posix.system"), e.getMessage()); // os.system pickles as posix.system on Linux
    assertTrue(e.getMessage().contains("Nothing was run"), e.getMessage());
    assertFalse(Files.exists(MARKER), "the payload ran");
  }

  @Test
  void builtinsEvalIsRefusedAndNothingRuns() throws IOException {
    Files.deleteIfExists(MARKER);
    Path f = DIR.resolve("malicious-eval.pt");
    WeightsException e = assertThrows(WeightsException.class, () -> TensorSources.open(f));
    assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
    assertTrue(e.getMessage().contains("builtin__.eval") || e.getMessage().contains("builtins.eval"), e.getMessage());
    assertFalse(Files.exists(MARKER), "the payload ran");
  }

  @Test
  void anUnknownObjectInsideTheStateDictIsRefused() {
    Path f = DIR.resolve("unknown-in-state-dict.pt");
    WeightsException e = assertThrows(WeightsException.class, () -> TensorSources.open(f));
    assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
    assertTrue(e.getMessage().contains("'args'") && e.getMessage().contains("argparse.Namespace"), e.getMessage());
  }

  @Test
  void theLegacyFormatIsRefusedWithTheFix() {
    Path f = DIR.resolve("legacy.pt");
    WeightsException e = assertThrows(WeightsException.class, () -> TensorSources.open(f));
    assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("torch >= 1.6"), e.getMessage());
  }

  /** Hand-written pickles for opcodes torch.save does not write but an attacker may: protocol 4's STACK_GLOBAL, the
   * protocol-0 INST, and BUILD on a plain value (which Pyrolite would answer with reflection). */
  @Test
  void handWrittenHostilePicklesAreRefused(@TempDir Path dir) throws IOException {
    ByteArrayOutputStream stackGlobal = new ByteArrayOutputStream();
    stackGlobal.write(new byte[] {(byte) 0x80, 4});
    shortUnicode(stackGlobal, "subprocess");
    shortUnicode(stackGlobal, "Popen");
    stackGlobal.write(0x93); // STACK_GLOBAL
    shortUnicode(stackGlobal, "touch " + MARKER);
    stackGlobal.write(new byte[] {(byte) 0x85, 'R', '.'}); // TUPLE1 REDUCE STOP
    assertRefused(dir, "stack-global.pt", stackGlobal.toByteArray(), "subprocess.Popen");

    byte[] inst = ("(S'x'\ni__main__\nEvil\n.").getBytes(StandardCharsets.ISO_8859_1);
    assertRefused(dir, "inst.pt", inst, "instance opcode 'i'");

    byte[] build = {(byte) 0x80, 2, ']', '}', 'b', '.'}; // EMPTY_LIST EMPTY_DICT BUILD STOP
    assertRefused(dir, "build.pt", build, "BUILD on a list");
  }

  @Test
  void refusalListCoversCodeExecutionAndSparesData() {
    for (String g : List.of("os.system", "posix.system", "nt.system", "builtins.eval", "__builtin__.exec",
        "builtins.getattr", "builtins.__import__", "subprocess.Popen", "importlib.import_module", "runpy._run_code",
        "torch.hub.load", "torch.jit.load", "numpy.load", "numpy.testing._private.utils.runstring", "pickle.loads")) {
      int dot = g.lastIndexOf('.');
      assertTrue(TorchGlobals.refused(g.substring(0, dot), g.substring(dot + 1)), g);
    }
    for (String g : List.of("builtins.set", "__builtin__.frozenset", "collections.OrderedDict", "argparse.Namespace",
        "numpy.core.multiarray.scalar", "numpy.dtype", "pytorch_lightning.utilities.parsing.AttributeDict",
        "torch._utils._rebuild_tensor_v2", "pathlib.PosixPath")) {
      int dot = g.lastIndexOf('.');
      assertFalse(TorchGlobals.refused(g.substring(0, dot), g.substring(dot + 1)), g);
    }
  }

  @Test
  void aMissingStorageEntryIsNamed(@TempDir Path dir) throws IOException {
    Path f = dir.resolve("missing.pt");
    copyArchive(DIR.resolve("views.pt"), f, "views/data/0");
    WeightsException e = assertThrows(WeightsException.class, () -> TorchCheckpointReader.open(f));
    assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("key 'base'") // the first of the tensors on storage 0
        && e.getMessage().contains("storage 0 is not in the archive"), e.getMessage());
  }

  @Test
  void notATorchFileIsNamed(@TempDir Path dir) throws IOException {
    Path f = dir.resolve("x.ckpt");
    Files.writeString(f, "hello");
    WeightsException e = assertThrows(WeightsException.class, () -> TensorSources.open(f));
    assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("not a torch.save file"), e.getMessage());
  }

  private static void shortUnicode(ByteArrayOutputStream out, String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    out.write(0x8c);
    out.write(b.length);
    out.write(b, 0, b.length);
  }

  private static void assertRefused(Path dir, String name, byte[] pickle, String expected) throws IOException {
    Files.deleteIfExists(MARKER);
    Path f = dir.resolve(name);
    try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(f))) {
      z.putNextEntry(new ZipEntry("archive/data.pkl"));
      z.write(pickle);
      z.closeEntry();
    }
    WeightsException e = assertThrows(WeightsException.class, () -> TensorSources.open(f));
    assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains(expected), e.getMessage());
    assertFalse(Files.exists(MARKER), "the payload ran");
  }

  /** Rewrites a torch zip with deflated entries (torch stores them uncompressed), leaving out {@code skip}. */
  private static void copyArchive(Path from, Path to, String skip) throws IOException {
    try (ZipFile in = new ZipFile(from.toFile()); OutputStream os = Files.newOutputStream(to);
        ZipOutputStream out = new ZipOutputStream(os)) {
      List<ZipEntry> entries = new ArrayList<>();
      for (Enumeration<? extends ZipEntry> en = in.entries(); en.hasMoreElements(); ) entries.add(en.nextElement());
      for (ZipEntry e : entries) {
        if (e.getName().equals(skip)) continue;
        out.putNextEntry(new ZipEntry(e.getName()));
        try (InputStream is = in.getInputStream(e)) {
          is.transferTo(out);
        }
        out.closeEntry();
      }
    }
  }
}
