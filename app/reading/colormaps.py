"""The colour maps of the views, one per kind of data.

Signed data (kernel weights, feature maps, the pooled layer) use a diverging map centred
at zero, blue for negative and orange-yellow for positive, from colorcet's colour-blind-safe
set (CET-CBD1): zero is always the middle grey, whatever the range. Counts and other
non-negative data use cividis (perceptually uniform, made for colour-vision deficiency).
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

__all__ = ["SIGNED", "POSITIVE", "signed_cmap", "positive_cmap", "symmetric_levels", "HIGHLIGHT"]

SIGNED = "CET-CBD1"
"""Diverging, colour-blind safe: negative blue, zero grey, positive yellow."""
POSITIVE = "cividis"
"""Sequential, perceptually uniform, colour-blind safe: low dark blue, high yellow."""
HIGHLIGHT = (230, 97, 1)
"""The selected kernel's colour (orange, apart from both maps' ends)."""


def signed_cmap() -> pg.ColorMap:
    return pg.colormap.get(SIGNED)


def positive_cmap() -> pg.ColorMap:
    return pg.colormap.get(POSITIVE)


def symmetric_levels(values: np.ndarray) -> tuple[float, float]:
    """``(-m, m)`` with ``m`` the largest magnitude of ``values`` (1 if all zero or empty)."""
    a = np.nan_to_num(np.asarray(values, dtype=np.float32))
    m = float(np.abs(a).max()) if a.size else 0.0
    return (-m, m) if m > 0 else (-1.0, 1.0)
