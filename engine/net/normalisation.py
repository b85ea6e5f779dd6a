"""The map from raw pixels (0-255) to the network's input: :class:`Normalisation`.

Fitting and applying it to byte images (every data set's pixels) goes through 256-entry
tables and gives the plain formula's numbers to the bit (``tests/engine/test_normalisation.py``
checks it against the formula) without float64 copies of the images.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Normalisation"]


#: Elements summed at once by :func:`_table_sum` (a 512 KiB temporary).
_SUM_BLOCK = 1 << 16


def _table_sum(table: np.ndarray, index: np.ndarray, start: int, n: int) -> float:
    """``sum(table[index[start:start + n]])`` in NumPy's pairwise order, block by block.

    NumPy sums a contiguous float64 array by halving it (the first half a multiple of 8)
    until a piece has at most 128 elements; following the same halving down to pieces of
    :data:`_SUM_BLOCK` and letting NumPy sum each piece gives its result to the bit.

    Parameters
    ----------
    table : ndarray of float64, (256,)
    index : ndarray of uint8, (M,)
    start, n : int
        The run of ``index`` to sum.
    """
    if n <= _SUM_BLOCK:
        return np.add.reduce(table[index[start:start + n]])
    half = n // 2
    half -= half % 8
    return _table_sum(table, index, start, half) + _table_sum(table, index, start + half, n - half)


@dataclass
class Normalisation:
    """An affine map from raw pixels (0 to 255) to the network's input.

    ``x = (pixels - offset) / scale``. The article's normalisation has ``offset`` the mean
    of the training pixels and ``scale`` their **variance**; the usual one scales to
    [0, 1] and standardises, which is the same map with ``offset = 255*mean`` and
    ``scale = 255*std``.

    Parameters
    ----------
    offset, scale : float
        In raw pixel units (0-255).
    kind : str
        ``"article"`` (divide by the variance) or ``"standard"`` (mean and standard
        deviation of the [0, 1] pixels).
    """

    offset: float = 0.0
    scale: float = 255.0
    kind: str = "standard"

    def apply(self, pixels: np.ndarray, dtype=np.float64) -> np.ndarray:
        """Normalise raw pixels ``(..., 28, 28)`` in 0-255; returns the same shape.

        Bytes (``uint8``, every data set's pixels) go through a 256-entry table holding
        what the formula gives for each byte, so the result is the formula's to the bit
        without a float64 copy of the images.
        """
        if isinstance(pixels, np.ndarray) and pixels.dtype == np.uint8:
            table = ((np.arange(256.0) - self.offset) / self.scale).astype(dtype)
            return table[pixels]
        return ((np.asarray(pixels, dtype=np.float64) - self.offset) / self.scale).astype(dtype, copy=False)

    def to_dict(self) -> dict:
        return {"offset": float(self.offset), "scale": float(self.scale), "kind": str(self.kind)}

    @classmethod
    def from_dict(cls, d: dict) -> "Normalisation":
        return cls(float(d["offset"]), float(d["scale"]), str(d.get("kind", "standard")))

    @classmethod
    def fit(cls, pixels: np.ndarray, kind: str) -> "Normalisation":
        """Fit to raw training pixels ``(N, 28, 28)`` in 0-255.

        ``kind="article"``: one scalar mean and the variance over the whole array.
        ``kind="standard"``: mean and standard deviation of ``pixels/255``.
        """
        if kind not in ("article", "standard"):
            raise ValueError(f"unknown normalisation {kind!r}: use 'article' or 'standard'")
        if isinstance(pixels, np.ndarray) and pixels.dtype == np.uint8 and pixels.size:
            return cls._fit_bytes(pixels, kind)
        x = np.asarray(pixels, dtype=np.float64)
        if kind == "article":
            return cls(float(x.mean()), float(x.var()), "article")
        x01 = x / 255.0
        return cls(255.0 * float(x01.mean()), 255.0 * float(x01.std()), "standard")

    @classmethod
    def _fit_bytes(cls, pixels: np.ndarray, kind: str) -> "Normalisation":
        """:meth:`fit` for ``uint8`` pixels, to the bit: the same values summed in the same
        order as NumPy's ``mean`` and ``var`` of the float64 array (each element's value
        and square taken from a 256-entry table), without a float64 copy of the images
        (on a virtual machine, the page faults of a fresh 376 MB array cost about a second)."""
        flat = np.ascontiguousarray(pixels).reshape(-1)
        values = np.arange(256.0) if kind == "article" else np.arange(256.0) / 255.0
        mean = float(_table_sum(values, flat, 0, flat.size) / flat.size)
        var = float(_table_sum((values - mean) ** 2, flat, 0, flat.size) / flat.size)
        if kind == "article":
            return cls(mean, var, "article")
        return cls(255.0 * mean, 255.0 * math.sqrt(var), "standard")
