"""MNIST's IDX files (labels ``(N,)`` or images ``(N, rows, cols)``, uint8), gzipped or not:
read strictly and bounded (the header is checked before anything is decompressed), written
atomically."""
from __future__ import annotations

import gzip
from pathlib import Path
from typing import Callable

import numpy as np

from .dataset import DataError
from .safefile import atomic_write, gunzip, read_bytes

__all__ = ["read_idx", "write_idx", "MAX_IDX_VALUES", "MAX_IDX_FILE_BYTES"]

_GZIP_MAGIC = b"\x1f\x8b"
_IDX_IMAGES = 0x0803
_IDX_LABELS = 0x0801
#: The most values (pixels, labels) one data file may declare: 100 million (MNIST's
#: training images hold 47 million).
MAX_IDX_VALUES = 100_000_000
#: The largest IDX file read.
MAX_IDX_FILE_BYTES = MAX_IDX_VALUES + 1_000_000


def read_idx(path, *, should_stop: Callable[[], bool] | None = None) -> np.ndarray:
    """Read an IDX file of MNIST (labels or images), gzipped or not.

    Gzip is detected by its magic bytes, whatever the file is called. The header is read
    first: a file declaring more than :data:`MAX_IDX_VALUES` values is refused before
    anything else is decompressed, and decompression stops one byte past what the header
    declares.

    Parameters
    ----------
    path : str or Path
    should_stop : callable, optional
        Checked while decompressing; True raises :class:`Cancelled`.

    Returns
    -------
    ndarray of uint8
        ``(N,)`` for a labels file (magic ``0x00000801``) or ``(N, rows, cols)`` for an
        images file (magic ``0x00000803``). A read-only view of the file's bytes.

    Raises
    ------
    DataError
        Not a regular file, unknown magic number, a header cut short or declaring too many
        values, or a payload that is not exactly the size the header declares.
    """
    path = Path(path)
    raw = read_bytes(path, MAX_IDX_FILE_BYTES, DataError)
    gz = raw[:2] == _GZIP_MAGIC
    head = gunzip(raw, 16, path, DataError) if gz else raw[:16]
    if len(head) < 4:
        raise DataError(f"{path}: too short to be an IDX file ({len(head)} bytes)")
    magic = int.from_bytes(head[:4], "big")
    if magic not in (_IDX_IMAGES, _IDX_LABELS):
        raise DataError(
            f"{path}: not an MNIST IDX file (magic number 0x{magic:08x}, expected 0x00000801 "
            f"for labels or 0x00000803 for images)")
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(head) < header:
        raise DataError(f"{path}: the IDX header is cut short ({len(head)} bytes, expected {header})")
    dims = tuple(int(d) for d in np.frombuffer(head, dtype=">u4", count=ndim, offset=4))
    if ndim == 3 and (dims[1] == 0 or dims[2] == 0):
        raise DataError(f"{path}: images of {dims[1]}x{dims[2]} pixels")
    expected = int(np.prod(dims, dtype=object))
    declared = f"{' x '.join(map(str, dims))} = {expected:,}"
    if expected > MAX_IDX_VALUES:
        raise DataError(f"{path}: the header declares {declared} values, more than the "
                        f"{MAX_IDX_VALUES:,} an MNIST file may hold")
    data = gunzip(raw, header + expected, path, DataError, should_stop=should_stop) if gz else raw
    got = len(data) - header
    if got < expected:
        raise DataError(f"{path}: the file is cut short: {got:,} bytes of data, the header declares "
                        f"{declared}")
    if got > expected:
        more = "more bytes" if gz else f"{got - expected:,} bytes more"
        raise DataError(f"{path}: {more} than the header declares ({declared})")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def write_idx(path, array: np.ndarray, *, compress: bool | None = None) -> Path:
    """Write a uint8 array ``(N,)`` (labels) or ``(N, rows, cols)`` (images) as an IDX file.

    ``compress=None`` gzips when the name ends in ``.gz``. Written atomically. Used by the
    tests and for exporting small sets.
    """
    path = Path(path)
    a = np.ascontiguousarray(array, dtype=np.uint8)
    if a.ndim not in (1, 3):
        raise ValueError(f"IDX arrays are 1-D (labels) or 3-D (images), not {a.ndim}-D")
    head = (0x0800 | a.ndim).to_bytes(4, "big") + np.asarray(a.shape, dtype=">u4").tobytes()
    blob = head + a.tobytes()
    if compress if compress is not None else path.suffix == ".gz":
        blob = gzip.compress(blob, mtime=0)
    with atomic_write(path, DataError) as fh:
        fh.write(blob)
    return path
