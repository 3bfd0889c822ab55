#!/usr/bin/env python3
"""Lists the GPU architectures a CUDA shared library carries: cubins (machine code) and PTX, per architecture.

Usage: python3 scripts/fatbin-archs.py libnd4jcuda.so
Reads the fatbinary containers embedded in the library (magic 0xBA55ED50, a 16-byte header, then entries of
kind 1 = PTX or 2 = ELF cubin, each with its own header length, payload size and sm architecture), so no CUDA toolkit
is needed. docs/performance.md ("GPU") uses it on ND4J 1.0.0-M2.1's CUDA 11.6 backend.
"""
import struct, mmap, collections, sys
f = open(sys.argv[1], 'rb'); m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
magic = struct.pack('<I', 0xBA55ED50)
counts = collections.Counter(); pos = 0; nbins = 0
while True:
    i = m.find(magic, pos)
    if i < 0: break
    ver, hsz, fsz = struct.unpack_from('<HHQ', m, i + 4)
    if hsz != 16 or fsz == 0 or fsz > 1 << 31: pos = i + 4; continue
    nbins += 1
    e = i + hsz; end = e + fsz
    while e < end:
        kind, _, ehs, size = struct.unpack_from('<HHIQ', m, e)
        arch = struct.unpack_from('<I', m, e + 28)[0]
        if ehs == 0 or kind not in (1, 2): break
        counts[('PTX' if kind == 1 else 'cubin', arch)] += 1
        e += ehs + size
    pos = end
print('fatbins', nbins)
for k, v in sorted(counts.items(), key=lambda kv: (kv[0][0], kv[0][1])): print(k, v)
