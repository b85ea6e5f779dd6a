"""Random distortions of a batch of digit images, for training (the backprop mode).

Mouse-drawn digits are thicker, less centred and more slanted than MNIST's; training on
randomly shifted, rotated, scaled, sheared, thinned and thickened copies makes the model
read them better. The random maps are drawn here; one compiled loop (:func:`engine.net.conv_loops.warp`)
changes the stroke width and applies a bilinear affine warp.

The images may be raw (0-255) or already normalised: the map from raw pixels to the
network's input is increasing and affine, so the dilation/erosion and the bilinear warp
commute with it, provided the value that fills uncovered pixels, ``background``, is the
normalised value of a black pixel.
"""
from __future__ import annotations

import numpy as np


__all__ = ["AUGMENT_DEFAULTS", "augment_batch", "random_affines"]

#: Ranges of the random distortions (uniform draws).
AUGMENT_DEFAULTS: dict = {
    "shift": 2.5,        # pixels, each axis
    "rotate": 15.0,      # degrees
    "scale": (0.85, 1.15),
    "aspect": 0.1,       # relative change of width against height
    "shear": 0.25,       # horizontal shear (slant), x += shear*y
    "thickness": (-0.4, 1.0),  # stroke width change: -1 full erosion, +1 full dilation (3x3 cross)
}


def random_affines(n: int, rng: np.random.Generator, size: int = 28, *,
                   shift: float = AUGMENT_DEFAULTS["shift"], rotate: float = AUGMENT_DEFAULTS["rotate"],
                   scale=AUGMENT_DEFAULTS["scale"], aspect: float = AUGMENT_DEFAULTS["aspect"],
                   shear: float = AUGMENT_DEFAULTS["shear"]) -> np.ndarray:
    """Random affine maps from output to source pixel coordinates.

    Parameters
    ----------
    n : int
        Number of maps.
    rng : numpy.random.Generator
    size : int
        Image side (the maps turn about the image centre).
    shift, rotate, scale, aspect, shear
        Ranges (see :data:`AUGMENT_DEFAULTS`); rotate in degrees.

    Returns
    -------
    ndarray, (n, 2, 3), float64
        ``[src_row, src_col] = M[:, :, :2] @ [row, col] + M[:, :, 2]``.
    """
    th = np.deg2rad(rng.uniform(-rotate, rotate, n))
    s = rng.uniform(scale[0], scale[1], n)
    asp = 1.0 + rng.uniform(-aspect, aspect, n)
    sh = rng.uniform(-shear, shear, n)
    t = rng.uniform(-shift, shift, (n, 2))
    cos, sin = np.cos(th), np.sin(th)
    # forward map (source -> output) A = R(th) @ Shear @ diag(s, s*asp), in (row, col)
    sy, sx = s, s * asp
    # Shear: col' = col + sh*row  (rows are y, pointing down)
    S = np.zeros((n, 2, 2))
    S[:, 0, 0] = sy
    S[:, 1, 0] = sh * sy
    S[:, 1, 1] = sx
    R = np.stack([np.stack([cos, -sin], 1), np.stack([sin, cos], 1)], 1)
    A = R @ S
    inv = np.linalg.inv(A)
    c = (size - 1) / 2.0
    M = np.empty((n, 2, 3))
    M[:, :, :2] = inv
    # output p = A (src - c) + c + t  =>  src = inv (p - c - t) + c
    M[:, :, 2] = c - np.einsum("nij,nj->ni", inv, c + t)
    return M


def augment_batch(X: np.ndarray, rng: np.random.Generator, *, background: float = 0.0,
                  **ranges) -> np.ndarray:
    """Randomly distorted copies of a batch of images.

    Parameters
    ----------
    X : ndarray, (N, S, S)
        Images, raw or normalised (white strokes on a dark background, i.e. the stroke
        has the larger values).
    rng : numpy.random.Generator
        Source of the random distortions (reproducible with a seeded generator).
    background : float
        Value of a blank pixel in ``X``'s units (0 for raw images; ``-offset/scale`` when
        normalised), used where the warp uncovers the border.
    **ranges
        Override :data:`AUGMENT_DEFAULTS` (``shift``, ``rotate``, ``scale``, ``aspect``,
        ``shear``, ``thickness``).

    Returns
    -------
    ndarray, (N, S, S)
        Same dtype as ``X`` (float32 or float64; integers become float32).
    """
    opts = dict(AUGMENT_DEFAULTS)
    unknown = set(ranges) - set(opts)
    if unknown:
        raise ValueError(f"unknown augmentation setting(s): {', '.join(sorted(unknown))}")
    opts.update(ranges)
    X = np.asarray(X)
    if X.ndim != 3 or X.shape[1] != X.shape[2]:
        raise ValueError(f"images must have shape (N, S, S), not {X.shape}")
    dt = X.dtype if X.dtype in (np.float32, np.float64) else np.dtype(np.float32)
    X = np.ascontiguousarray(X, dtype=dt)
    n, s = X.shape[0], X.shape[1]
    thick = opts.pop("thickness")
    lo, hi = (-float(thick), float(thick)) if np.isscalar(thick) else (float(thick[0]), float(thick[1]))
    if not -1 <= lo <= hi <= 1:
        raise ValueError(f"thickness must lie in [-1, 1], not {thick!r}")
    M = random_affines(n, rng, s, **opts)
    width = rng.uniform(lo, hi, n)
    from ..net.conv_loops import warp          # numba: imported on first use
    return warp(X, M, width, float(background))
