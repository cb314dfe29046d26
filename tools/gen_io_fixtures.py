#!/usr/bin/python3
"""Writes the small fixture files of tests/unit/io into tests/data/io.

Run with a Python that has numpy (Debian: /usr/bin/python3):
    /usr/bin/python3 tools/gen_io_fixtures.py
Output is deterministic (fixed zip timestamps, gzip mtime 0) for a given numpy/zlib version.
"""
import gzip
import io
import os
import struct
import time
import warnings
import zipfile
import zlib

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "io")

# zipfile stamps entries with the current time; pin it so reruns give identical bytes.
_FIXED_TIME = time.mktime((2024, 1, 2, 3, 4, 6, 0, 0, -1))
time.time = lambda: _FIXED_TIME


def write(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def raw_deflate(data, level=9, strategy=zlib.Z_DEFAULT_STRATEGY):
    c = zlib.compressobj(level, zlib.DEFLATED, -15, 9, strategy)
    return c.compress(data) + c.flush()


def first_block_type(stream):
    return (stream[0] >> 1) & 3


def text(n):
    words = (b"tiny nets on small cpus run fast when weights stay in cache "
             b"and loops stay simple").split()
    out, i = [], 0
    while sum(len(w) + 1 for w in out) < n:
        out.append(words[(i * 7 + i // 3) % len(words)])
        out.append(str(i % 97).encode())
        i += 1
    return b" ".join(out)[:n]


def skewed(n):
    # Geometric symbol frequencies give Huffman codes up to 15 bits (the decoder's slow path);
    # the periodic copies give long match distances.
    state, out = 12345, bytearray()
    while len(out) < n:
        state = (state * 1103515245 + 12345) & 0x7FFFFFFF
        r = state >> 8
        k = 0
        while r & 1 and k < 255:
            k += 1
            r >>= 1
        out.append(k * 37 % 256)
        if len(out) % 1500 == 0 and len(out) > 3000:
            out += out[-3000:-2950]
    return bytes(out[:n])


def buf_of_savez(**kwargs):
    buf = io.BytesIO()
    np.savez(buf, **kwargs)
    return buf.getvalue()


def with_zip64_end_records(data):
    """Rewrites a small archive's end as large ones have it: a ZIP64 end-of-central-directory
    record and locator, and an EOCD whose fields are saturated."""
    eocd = data.rfind(b"PK\x05\x06")
    (_, _, _, n_here, n_total, cd_size, cd_offset, comment_len) = struct.unpack(
        "<IHHHHIIH", data[eocd:eocd + 22])
    zip64_at = eocd
    record = struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, n_here, n_total, cd_size,
                         cd_offset)
    locator = struct.pack("<IIQI", 0x07064B50, 0, zip64_at, 1)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFFFFFF,
                      0xFFFFFFFF, 0)
    out = data[:eocd] + record + locator + end
    with zipfile.ZipFile(io.BytesIO(out)) as z:  # Python must agree that the result is valid
        assert z.testzip() is None and z.namelist() == ["b.npy"]
    return out


def arrays():
    return {
        "dense1_weight": np.arange(6, dtype=np.float32).reshape(2, 3) / 4 - 0.5,
        "counts": np.array([[1, -2], [3, 2147483647]], dtype=np.int32),
        "pixels": np.array([0, 7, 128, 255], dtype=np.uint8),
        "mask": np.array([True, False, True]),
        "half": np.array([1.5, -2.0], dtype=np.float16),
        "scale": np.float64(0.125) * np.ones((), dtype=np.float64),
        "empty": np.zeros((0, 3), dtype=np.float32),
        "big_endian": np.array([1.0, -3.25], dtype=">f4"),
    }


def main():
    os.makedirs(OUT, exist_ok=True)

    plain = text(1200)
    write("plain.txt", plain)
    short = plain[:200]
    stored = raw_deflate(short, level=0)
    fixed = raw_deflate(plain, strategy=zlib.Z_FIXED)
    dynamic = raw_deflate(plain)
    assert first_block_type(stored) == 0 and first_block_type(fixed) == 1
    assert first_block_type(dynamic) == 2
    write("short.stored.deflate", stored)
    write("plain.fixed.deflate", fixed)
    write("plain.dynamic.deflate", dynamic)
    mixed = skewed(6000)
    mixed_deflate = raw_deflate(mixed)
    assert first_block_type(mixed_deflate) == 2
    write("skewed.deflate", mixed_deflate)
    # The C++ test regenerates nothing; it checks length and CRC-32 of the decoded bytes.
    write("skewed.txt", b"%d %d\n" % (len(mixed), zlib.crc32(mixed)))

    buf = io.BytesIO()
    np.savez(buf, **arrays())
    write("arrays.npz", buf.getvalue())
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays())
    write("arrays_compressed.npz", buf.getvalue())

    buf = io.BytesIO()
    np.savez(buf, w=np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)))
    write("fortran.npz", buf.getvalue())

    one = io.BytesIO()
    np.save(one, np.array([1.0, 2.0], dtype=np.float32))
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate, which is the point
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("a.npy", one.getvalue())
            z.writestr("a.npy", one.getvalue())
    write("duplicate.npz", buf.getvalue())

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("a.npy", one.getvalue())
        z.writestr("readme.txt", b"not an array\n")
    write("not_npy.npz", buf.getvalue())

    small = buf_of_savez(b=np.array([0.5, 4.0], dtype=np.float32))
    write("zip64_eocd.npz", with_zip64_end_records(small))

    v = np.arange(6, dtype=np.float32).reshape(3, 2)
    for version in [(1, 0), (2, 0), (3, 0)]:
        buf = io.BytesIO()
        np.lib.format.write_array(buf, v, version=version)
        write("v%d.npy" % version[0], buf.getvalue())

    dims = (3, 2, 2)
    values = bytes((i * 23) % 256 for i in range(12))
    idx = struct.pack(">BBBB", 0, 0, 8, len(dims)) + struct.pack(">3I", *dims) + values
    write("small.idx", idx)
    buf = io.BytesIO()
    with gzip.GzipFile(filename="small.idx", mode="wb", fileobj=buf, mtime=0) as g:
        g.write(idx)
    write("small.idx.gz", buf.getvalue())

    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print("wrote %d files, %d bytes, to %s" % (len(os.listdir(OUT)), total, os.path.normpath(OUT)))


if __name__ == "__main__":
    main()
