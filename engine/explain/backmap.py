"""From the 28x28 input back to the drawing: where each input pixel came from.

:func:`engine.net.preprocess.to_mnist` crops the drawing to its ink, scales the crop by one
factor on both axes and shifts it so its centre of mass lands on (14, 14) (or, without
preprocessing, scales the whole drawing to 28x28). Both are axis-aligned affine maps, so
a map over the 28x28 input (an attribution, say) goes back to the drawing as
by bilinear interpolation, one axis at a time. :func:`attribution_rgba`
colours such a map for drawing over the canvas.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..net.preprocess import (INK_THRESHOLD, MNIST_BOX, MNIST_CENTRE, MNIST_SIZE, centre_of_mass,
                         ink_box, resample)

__all__ = ["Placement", "placement", "to_canvas", "attribution_rgba", "TOWARDS", "AWAY"]

TOWARDS = (230, 60, 20)
"""RGB of ink that pushed towards the class (positive attribution)."""
AWAY = (20, 120, 255)
"""RGB of ink that pushed away from it (negative attribution)."""


class Placement(NamedTuple):
    """Where the drawing went in the 28x28 input: input index ``= offset + (canvas - start) * scale``.

    Attributes
    ----------
    top, left : int
        Canvas pixel (row, column) mapped to the input's ``(oy, ox)``.
    oy, ox : int
        Input pixel where the crop starts.
    scale : float
        Input pixels per canvas pixel (the same on both axes, or per axis without preprocessing).
    scale_x : float
        Input pixels per canvas pixel across columns.
    """

    top: int
    left: int
    oy: int
    ox: int
    scale: float
    scale_x: float


def placement(canvas_image: np.ndarray, preprocess: bool = True, *,
              threshold: float = INK_THRESHOLD) -> Placement | None:
    """How :func:`engine.net.preprocess.to_mnist` places ``canvas_image`` (H, W) in the input.

    Returns None for a drawing with no ink when preprocessing (nothing is placed).
    """
    img = np.clip(np.asarray(canvas_image, dtype=np.float64), 0.0, 1.0)
    H, W = img.shape
    if not preprocess:
        return Placement(0, 0, 0, 0, MNIST_SIZE / H, MNIST_SIZE / W)
    box = ink_box(img, threshold)
    if box is None:
        return None
    top, bottom, left, right = box
    h0, w0 = bottom - top, right - left
    scale = MNIST_BOX / max(h0, w0)
    h = min(MNIST_BOX, int(np.ceil(h0 * scale - 1e-9)))
    w = min(MNIST_BOX, int(np.ceil(w0 * scale - 1e-9)))
    small = resample(img[top:bottom, left:right], (h, w), scale)
    cy, cx = centre_of_mass(small)
    oy = int(np.clip(np.round(MNIST_CENTRE - cy), 0, MNIST_SIZE - h))
    ox = int(np.clip(np.round(MNIST_CENTRE - cx), 0, MNIST_SIZE - w))
    return Placement(top, left, oy, ox, scale, scale)


def _interp(n_canvas: int, start: int, offset: int, scale: float):
    """Bilinear sampling of the input at canvas pixel centres along one axis.

    Returns ``(i0, i1, w0, w1)``, each ``(n_canvas,)``: the two input indices and their
    weights (both zero beyond the input's edge).
    """
    u = offset + (np.arange(n_canvas) + 0.5 - start) * scale - 0.5     # fractional input index
    inside = (u >= -0.5) & (u <= MNIST_SIZE - 0.5)
    u = np.clip(u, 0.0, MNIST_SIZE - 1.0)
    i0 = np.floor(u).astype(np.intp)
    i1 = np.minimum(i0 + 1, MNIST_SIZE - 1)
    w1 = (u - i0) * inside
    w0 = (1.0 - (u - i0)) * inside
    return i0, i1, w0, w1


def to_canvas(map28: np.ndarray, canvas_image: np.ndarray, preprocess: bool = True) -> np.ndarray:
    """A map over the 28x28 input, drawn back over the drawing it was made from.

    Parameters
    ----------
    map28 : ndarray, (28, 28)
    canvas_image : ndarray, (H, W)
        The drawing ``to_mnist`` was given.
    preprocess : bool
        Whether ``to_mnist`` preprocessed it.

    Returns
    -------
    ndarray, (H, W), float32
        Bilinearly interpolated (two gathers a pixel on each axis); zero where the canvas
        falls outside the input.
    """
    H, W = np.shape(canvas_image)
    pl = placement(canvas_image, preprocess)
    if pl is None:
        return np.zeros((H, W), np.float32)
    m = np.asarray(map28, dtype=np.float32)
    y0, y1, a0, a1 = _interp(H, pl.top, pl.oy, pl.scale)
    x0, x1, b0, b1 = _interp(W, pl.left, pl.ox, pl.scale_x)
    rows = m[y0] * a0[:, None].astype(np.float32) + m[y1] * a1[:, None].astype(np.float32)   # (H, 28)
    return rows[:, x0] * b0.astype(np.float32) + rows[:, x1] * b1.astype(np.float32)


def attribution_rgba(values: np.ndarray, limit: float | None = None, alpha: int = 200) -> np.ndarray:
    """Colour an attribution map: :data:`TOWARDS` for positive, :data:`AWAY` for negative,
    opacity growing with the magnitude.

    Parameters
    ----------
    values : ndarray, (H, W)
    limit : float, optional
        The magnitude drawn fully opaque (by default the largest ``|value|``).
    alpha : int
        Opacity (0-255) at ``limit``.

    Returns
    -------
    ndarray, (H, W, 4), uint8
        Fully transparent where the value is zero.
    """
    v = np.asarray(values, dtype=np.float32)
    lim = float(np.max(np.abs(v))) if limit is None else float(limit)
    out = np.zeros(v.shape + (4,), dtype=np.uint8)
    if lim <= 0 or not np.isfinite(lim):
        return out
    # a 511-entry table from -lim to +lim: one gather per pixel
    levels = np.abs(np.arange(-255, 256, dtype=np.float32)) / 255.0
    lut = np.zeros((511, 4), np.uint8)
    lut[:255, :3] = AWAY
    lut[256:, :3] = TOWARDS
    lut[:, 3] = np.round(np.sqrt(levels) * alpha).astype(np.uint8)
    idx = np.clip(v * np.float32(255.0 / lim), -255.0, 255.0)
    idx = np.rint(idx).astype(np.intp) + 255
    out = lut[idx]
    return out
