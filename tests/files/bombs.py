"""Small files that expand to gigabytes: a model ``.npz`` with one array swapped for zeros,
and a gzipped IDX file holding far more than its header declares.

The compressed zeros are built by repeating one fully flushed deflate block, so making a
3.2 GB member takes milliseconds and a few MB of disk.
"""
from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
from numpy.lib import format as npformat

_CHUNK = 1_000_000


def _deflate_zeros(prefix: bytes, zeros: int, *, crc: bool) -> tuple[bytes, int]:
    """Raw deflate data of ``prefix + bytes(zeros)`` and its CRC-32 (0 unless ``crc``:
    computing it reads all the zeros)."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = bytes(_CHUNK)
    n, rest = divmod(zeros, _CHUNK)
    body = c.compress(prefix) + c.flush(zlib.Z_FULL_FLUSH)
    if n:
        first = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
        repeat = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
        body += first + repeat * (n - 1)
    body += c.compress(bytes(rest)) + c.flush()
    value = 0
    if crc:
        value = zlib.crc32(prefix)
        for _ in range(n):
            value = zlib.crc32(chunk, value)
        value = zlib.crc32(bytes(rest), value)
    return body, value


def _write_zip(path: Path, members: list[tuple[str, bytes, int, int, int]]) -> None:
    """A zip of ``(name, data, method, crc, uncompressed size)`` members (no zip64: < 4 GiB each)."""
    out, central = bytearray(), bytearray()
    for name, data, method, crc, size in members:
        raw = name.encode()
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc, len(data), size,
                           len(raw), 0) + raw + data
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21, crc,
                               len(data), size, len(raw), 0, 0, 0, 0, 0, offset) + raw
    cd_offset = len(out)
    out += central
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central),
                       cd_offset, 0)
    Path(path).write_bytes(bytes(out))


def npz_bomb(good: Path, out: Path, name: str = "W1", values: int = 400_000_000,
             dtype=np.float64, *, crc: bool = False) -> Path:
    """``good`` with array ``name`` swapped for ``values`` zeros of ``dtype`` (deflated).

    400 million float64 values are 3.2 GB once decompressed, about 3 MB on disk.
    """
    members = []
    with zipfile.ZipFile(good) as z:
        for info in z.infolist():
            if info.filename == f"{name}.npy":
                continue
            data = z.read(info.filename)
            members.append((info.filename, data, 0, zlib.crc32(data), len(data)))
    header = {"descr": npformat.dtype_to_descr(np.dtype(dtype)), "fortran_order": False,
              "shape": (values,)}
    import io
    buf = io.BytesIO()
    npformat.write_array_header_1_0(buf, header)
    prefix = buf.getvalue()
    body, value = _deflate_zeros(prefix, values * np.dtype(dtype).itemsize, crc=crc)
    members.append((f"{name}.npy", body, 8, value, len(prefix) + values * np.dtype(dtype).itemsize))
    _write_zip(out, members)
    return out


def gzip_idx_bomb(out: Path, images: int = 10, zeros: int = 1_000_000_000) -> Path:
    """A gzipped images IDX file whose header declares ``images`` 28x28 images but whose data
    decompresses to ``zeros`` bytes (1 GB by default; about 1 MB on disk). The gzip CRC is
    not computed: a reader stopping where the header says never reaches it."""
    head = (0x0803).to_bytes(4, "big") + np.asarray((images, 28, 28), ">u4").tobytes()
    body, _ = _deflate_zeros(head, zeros, crc=False)
    size = (len(head) + zeros) & 0xFFFFFFFF
    gz = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + body + struct.pack("<II", 0, size)
    Path(out).write_bytes(gz)
    return out
