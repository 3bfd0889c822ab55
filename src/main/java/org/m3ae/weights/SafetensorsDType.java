package org.m3ae.weights;

import java.nio.ByteBuffer;
import java.util.Locale;

/**
 * The safetensors element types this project reads. The float types carry weights; the integer
 * types appear as buffers in real state_dicts (e.g. RoBERTa's int64 {@code position_ids}, SPEC §4)
 * and must be readable so that such files open, even though they are reported as unused.
 */
enum SafetensorsDType {
  F64(8),
  F32(4),
  F16(2),
  BF16(2),
  I64(8),
  I32(4),
  I16(2),
  I8(1),
  U8(1),
  BOOL(1);

  final int size;

  SafetensorsDType(int size) {
    this.size = size;
  }

  /** Returns null for a name this reader does not know. */
  static SafetensorsDType parse(String name) {
    try {
      return valueOf(name.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** Reads one element at the buffer's position (little-endian buffer) and widens it. */
  float next(ByteBuffer b) {
    switch (this) {
      case F64: return (float) b.getDouble();
      case F32: return b.getFloat();
      case F16: return HalfFloats.f16ToFloat(b.getShort());
      case BF16: return HalfFloats.bf16ToFloat(b.getShort());
      case I64: return (float) b.getLong();
      case I32: return (float) b.getInt();
      case I16: return b.getShort();
      case I8: return b.get();
      case U8:
      case BOOL: return b.get() & 0xFF;
      default: throw new AssertionError(this);
    }
  }
}
