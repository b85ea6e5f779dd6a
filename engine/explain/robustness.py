"""How robust is this drawing's reading? The drawing shifted, rotated, scaled, thinner, thicker.

The transforms act on the drawing itself (the canvas image, or a 28x28 image), then the
usual path reads it: :func:`engine.net.preprocess.to_mnist` with preprocessing on or off, and
the model. With preprocessing on, shifts and scales are mostly undone by the crop and
the centring; without it they reach the network. All the transformed drawings go
through the model in one batch.

Distances are in MNIST pixels (a 28th of the drawing's side), whatever the drawing's size.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..net.model import Model
from ..net.preprocess import MNIST_SIZE, centre_of_mass, to_mnist

__all__ = ["Robustness", "robustness", "shifted", "warped", "thickened",
           "SHIFTS", "ANGLES", "SCALES", "THICKNESS"]

SHIFTS = 4
"""Largest shift tried, in MNIST pixels, each way on both axes."""
ANGLES = (-30.0, -20.0, -10.0, 0.0, 10.0, 20.0, 30.0)
"""Rotations tried, in degrees (positive: anticlockwise)."""
SCALES = (0.6, 0.75, 0.9, 1.0, 1.15, 1.3)
"""Scale factors tried, about the ink's centre of mass."""
THICKNESS = (-1.0, -0.5, 0.0, 0.5, 1.0, 2.0)
"""Changes of stroke width tried, in MNIST pixels (negative: thinner)."""


@dataclass
class Robustness:
    """The readings of one drawing under shifts, rotations, scales and stroke widths.

    Attributes
    ----------
    preprocess : bool
        Whether the drawings were preprocessed like MNIST before reading.
    proba : ndarray, (10,)
        The untouched drawing's class probabilities.
    shifts : ndarray, (S,)
        Shifts in MNIST pixels, ``-SHIFTS..SHIFTS``.
    shift_proba : ndarray, (S, S, 10)
        Probabilities for the drawing moved ``shifts[i]`` down and ``shifts[j]`` right.
    angles, scales, thickness : ndarray, (A,), (C,), (T,)
    angle_proba, scale_proba, thickness_proba : ndarray, (A, 10), (C, 10), (T, 10)
    """

    preprocess: bool
    proba: np.ndarray
    shifts: np.ndarray
    shift_proba: np.ndarray
    angles: np.ndarray
    angle_proba: np.ndarray
    scales: np.ndarray
    scale_proba: np.ndarray
    thickness: np.ndarray
    thickness_proba: np.ndarray

    @property
    def reading(self) -> int:
        """The untouched drawing's reading."""
        return int(np.argmax(self.proba))

    def kept(self) -> float:
        """Fraction of all the transformed drawings still read as :attr:`reading`."""
        r = self.reading
        reads = np.concatenate([self.shift_proba.reshape(-1, 10), self.angle_proba,
                                self.scale_proba, self.thickness_proba]).argmax(axis=1)
        return float(np.mean(reads == r))


def shifted(image: np.ndarray, shifts_px: np.ndarray) -> np.ndarray:
    """Every combination of whole-pixel shifts of ``image`` (H, W), blank coming in.

    Parameters
    ----------
    image : ndarray, (H, W)
    shifts_px : ndarray of int, (S,)

    Returns
    -------
    ndarray, (S, S, H, W)
        ``[i, j]`` is the image moved ``shifts_px[i]`` down and ``shifts_px[j]`` right.
    """
    img = np.asarray(image)
    H, W = img.shape
    s = np.asarray(shifts_px, dtype=np.intp)
    m = int(np.max(np.abs(s))) if s.size else 0
    pad = np.pad(img, m)
    rows = (m - s)[:, None] + np.arange(H)[None, :]          # (S, H)
    cols = (m - s)[:, None] + np.arange(W)[None, :]          # (S, W)
    return pad[rows[:, None, :, None], cols[None, :, None, :]]


def warped(image: np.ndarray, angles_deg, scales, centre: tuple[float, float]) -> np.ndarray:
    """The image rotated and scaled about ``centre``, bilinear, blank outside.

    Parameters
    ----------
    image : ndarray, (H, W)
    angles_deg, scales : array, (B,)
        One rotation (degrees, anticlockwise on screen) and one scale per output image.
    centre : (row, column)

    Returns
    -------
    ndarray, (B, H, W)
    """
    img = np.asarray(image, dtype=np.float64)
    H, W = img.shape
    th = np.radians(np.asarray(angles_deg, dtype=np.float64))[:, None, None]
    sc = np.asarray(scales, dtype=np.float64)[:, None, None]
    cy, cx = centre
    y = np.arange(H, dtype=np.float64)[None, :, None] - cy
    x = np.arange(W, dtype=np.float64)[None, None, :] - cx
    # inverse map: rotate the output coordinates back by the angle, then undo the scale
    # (rows grow downwards, so an anticlockwise turn on screen is clockwise in (x, y))
    sy = cy + (np.cos(th) * y + np.sin(th) * x) / sc
    sx = cx + (np.cos(th) * x - np.sin(th) * y) / sc
    y0 = np.floor(sy).astype(np.intp)
    x0 = np.floor(sx).astype(np.intp)
    fy, fx = sy - y0, sx - x0
    pad = np.pad(img, 1)

    def at(yy, xx):
        ok = (yy >= -1) & (yy <= H) & (xx >= -1) & (xx <= W)
        return np.where(ok, pad[np.clip(yy + 1, 0, H + 1), np.clip(xx + 1, 0, W + 1)], 0.0)

    return ((1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1))
            + fy * ((1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1)))


def _grow(img: np.ndarray, op) -> np.ndarray:
    """One step of a grey dilation (``op=np.maximum``) or erosion (``np.minimum``) of ``img``
    ``(H, W)`` by a plus (the centre and its four neighbours); :func:`thickened` alternates it
    with :func:`_grow_square` so that repeated steps approach a disc."""
    fill = 0.0 if op is np.maximum else 1.0
    p = np.pad(img, 1, constant_values=fill)
    c = p[1:-1, 1:-1]
    up, down, left, right = p[:-2, 1:-1], p[2:, 1:-1], p[1:-1, :-2], p[1:-1, 2:]
    return op(op(op(c, up), op(down, left)), right)


def _grow_square(img: np.ndarray, op) -> np.ndarray:
    """One step of a grey dilation or erosion of ``img`` ``(H, W)`` by a 3x3 square (see :func:`_grow`)."""
    fill = 0.0 if op is np.maximum else 1.0
    p = np.pad(img, 1, constant_values=fill)
    rows = op(op(p[:-2], p[1:-1]), p[2:])
    return op(op(rows[:, :-2], rows[:, 1:-1]), rows[:, 2:])


def thickened(image: np.ndarray, widths_px) -> np.ndarray:
    """The drawing with its strokes made wider (positive) or narrower (negative).

    Parameters
    ----------
    image : ndarray, (H, W)
    widths_px : array, (T,)
        Change of stroke width in pixels of ``image``; grows or shrinks the ink by half of
        it on every side (grey dilation or erosion by a near-disc).

    Returns
    -------
    ndarray, (T, H, W)
    """
    img = np.asarray(image, dtype=np.float64)
    w = np.asarray(widths_px, dtype=np.float64)
    radii = np.round(np.abs(w) / 2.0).astype(int)
    out = np.empty((len(w),) + img.shape)
    for op, sign in ((np.maximum, 1), (np.minimum, -1)):
        wanted = [int(r) for i, r in enumerate(radii) if np.sign(w[i]) == sign]
        cur = img
        for step in range(1, max(wanted, default=0) + 1):
            cur = _grow_square(cur, op) if step % 2 else _grow(cur, op)
            for i, r in enumerate(radii):
                if r == step and np.sign(w[i]) == sign:
                    out[i] = cur
    for i, r in enumerate(radii):
        if r == 0:
            out[i] = img
    return out


def robustness(model: Model, drawing: np.ndarray, preprocess: bool = True, *, shifts: int = SHIFTS,
               angles=ANGLES, scales=SCALES, thickness=THICKNESS) -> Robustness:
    """Read the drawing under every shift, rotation, scale and stroke width, in one batch.

    Parameters
    ----------
    model : Model
    drawing : ndarray, (H, W), in [0, 1]
        White ink on black: the canvas image or a 28x28 image.
    preprocess : bool
        Read through ``to_mnist(..., preprocess)``.
    shifts : int
        Shifts from ``-shifts`` to ``shifts`` MNIST pixels on each axis.
    angles, scales, thickness : sequences of float
        Degrees; factors; changes of stroke width in MNIST pixels.

    Returns
    -------
    Robustness
    """
    img = np.clip(np.asarray(drawing, dtype=np.float64), 0.0, 1.0)
    if img.ndim != 2:
        raise ValueError(f"the drawing must be one image (H, W), got shape {img.shape}")
    H, W = img.shape
    px = H / MNIST_SIZE                                                 # drawing pixels per MNIST pixel
    s = np.arange(-shifts, shifts + 1)
    angles = np.asarray(angles, dtype=np.float64)
    scales = np.asarray(scales, dtype=np.float64)
    thickness = np.asarray(thickness, dtype=np.float64)
    ink = img.sum()
    centre = centre_of_mass(img) if ink > 0 else ((H - 1) / 2, (W - 1) / 2)
    parts = [img[None],
             shifted(img, np.round(s * px).astype(np.intp)).reshape(-1, H, W),
             warped(img, angles, np.ones_like(angles), centre),
             warped(img, np.zeros_like(scales), scales, centre),
             thickened(img, thickness * px)]
    batch = np.concatenate(parts)
    inputs = np.stack([to_mnist(d, preprocess) for d in batch])       # (B, 28, 28)
    proba = model.predict_proba(inputs).astype(np.float64)
    sizes = np.cumsum([len(p) for p in parts])
    one, sh, an, sc, th = np.split(proba, sizes[:-1])
    return Robustness(bool(preprocess), one[0], s, sh.reshape(len(s), len(s), -1), angles, an,
                      scales, sc, thickness, th)
