"""A run's kernels as a picture: the kernel strip and a small PNG encoder (no imaging library).

:func:`kernel_strip` lays a timeline's kernels out as one RGB image (a row per snapshot);
:func:`png_bytes` encodes an ``(H, W, 3)`` uint8 image as PNG (zlib, one filter byte a row).
"""
from __future__ import annotations

import struct
import zlib

import numpy as np

from .snapshots import Timeline

__all__ = ["png_bytes", "kernel_strip"]


def png_bytes(rgb: np.ndarray) -> bytes:
    """PNG bytes of an ``(H, W, 3)`` uint8 image."""
    h, w, _ = rgb.shape
    raw = np.concatenate([np.zeros((h, 1), np.uint8), np.ascontiguousarray(rgb, np.uint8).reshape(h, 3 * w)],
                         axis=1).tobytes()           # filter byte 0 before each row

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def kernel_strip(timeline: Timeline, zoom: int = 4) -> np.ndarray:
    """The kernels' evolution as one image: a row per snapshot, a column per kernel (red
    positive, blue negative, each snapshot on its own scale). Returns ``(H, W, 3)`` uint8."""
    rows = []
    for p in timeline.points:
        c = p.model.config
        K = np.asarray(p.model.params["K"], np.float64).reshape(c.kernels, c.kernel_size, c.kernel_size)
        top = max(float(np.abs(K).max()), 1e-12)
        v = K / top                                                  # (k, f, f) in [-1, 1]
        pad = np.zeros((c.kernels, c.kernel_size, 1))
        row = np.concatenate([v, pad], axis=2).transpose(1, 0, 2).reshape(c.kernel_size, -1)
        rows.append(np.concatenate([row, np.zeros((1, row.shape[1]))]))
    v = np.concatenate(rows)
    rgb = np.empty(v.shape + (3,), np.uint8)
    pos, neg = np.clip(v, 0, 1), np.clip(-v, 0, 1)
    rgb[..., 0] = 255 * (1 - neg)
    rgb[..., 1] = 255 * (1 - np.maximum(pos, neg))
    rgb[..., 2] = 255 * (1 - pos)
    return np.repeat(np.repeat(rgb, zoom, axis=0), zoom, axis=1)
