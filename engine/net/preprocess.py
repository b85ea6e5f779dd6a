"""Turn a drawing into an MNIST-style 28x28 image.

MNIST's digits were made this way (LeCun et al.): the ink's bounding box was scaled,
keeping its aspect ratio, so that its longer side is 20 pixels, with anti-aliasing;
the result was placed in a 28x28 field so that its **centre of mass** falls on the
centre of the field. Measured on MNIST's test set, the centre of mass of the digits
is at row 13.99, column 14.01 (standard deviation 0.29) in pixel-index coordinates
(the first pixel's centre is 0, the last one's 27): the convention is **(14, 14)**,
reached with a whole-pixel shift. :func:`to_mnist` does the same.

Everything here is pure NumPy and vectorised (area averaging is two small matrix
products ``R @ img @ C.T``).
"""
from __future__ import annotations

import numpy as np

__all__ = ["to_mnist", "area_weights", "resample", "ink_box", "centre_of_mass",
           "MNIST_SIZE", "MNIST_BOX", "MNIST_CENTRE", "INK_THRESHOLD"]

MNIST_SIZE = 28
"""Side of the output image."""
MNIST_BOX = 20
"""Longer side of the digit's bounding box after scaling."""
MNIST_CENTRE = 14.0
"""Row and column (pixel-index coordinates) where the centre of mass is put."""
INK_THRESHOLD = 0.1
"""Pixels above this count as ink when cropping (anti-aliased fringes below it do not)."""


def area_weights(n_in: int, n_out: int, scale: float | None = None) -> np.ndarray:
    """The area-averaging matrix that resamples ``n_in`` pixels to ``n_out``.

    Output pixel ``i`` covers the input interval ``[i/scale, (i+1)/scale)``; its value is
    the mean of the input over that interval (input pixel ``j`` covers ``[j, j+1)``; the
    input is zero beyond ``n_in``).

    Parameters
    ----------
    n_in, n_out : int
        Input and output lengths.
    scale : float, optional
        Output pixels per input pixel; by default ``n_out / n_in`` (the input exactly fills
        the output). With a scale for which the input ends inside an output pixel, that
        pixel gets the input's partial coverage, as an anti-aliased renderer would.

    Returns
    -------
    ndarray, (n_out, n_in), float64
        Row ``i`` holds the weights of output pixel ``i``; rows sum to the fraction of the
        output pixel that the input covers (1 inside).
    """
    if scale is None:
        scale = n_out / n_in
    lo = np.arange(n_out)[:, None] / scale            # (n_out, 1) interval starts
    hi = lo + 1.0 / scale                             # (n_out, 1) interval ends
    j = np.arange(n_in)[None, :]                      # (1, n_in) input pixel starts
    overlap = np.clip(np.minimum(hi, j + 1.0) - np.maximum(lo, j), 0.0, None)
    return overlap * scale


def resample(image: np.ndarray, out_shape: tuple[int, int], scale: float | None = None) -> np.ndarray:
    """Area-average ``image`` (H, W) to ``out_shape`` (h, w); returns float64 (h, w).

    ``scale`` (output pixels per input pixel, the same on both axes) defaults to fitting
    each axis exactly (``h/H`` and ``w/W``).

    An exact whole-number reduction (``H`` a multiple of ``h`` and ``W`` of ``w``) is a
    block mean; anything else the product ``R @ image @ C.T`` of the area-weight matrices.
    The products go through ``einsum``, not BLAS: these matrices are small, and a
    multi-threaded BLAS call, waiting for a busy second core, can take tens of
    milliseconds where the single-threaded loop takes a fraction of one (this runs at
    every pointer move while drawing).
    """
    img = np.asarray(image, dtype=np.float64)
    H, W = img.shape
    h, w = out_shape
    if scale is None and H % h == 0 and W % w == 0:
        return img.reshape(h, H // h, w, W // w).mean(axis=(1, 3))
    R = area_weights(H, h, scale)                     # (h, H)
    C = area_weights(W, w, scale)                     # (w, W)
    rows = np.einsum("ij,jk->ik", R, img, optimize=False)         # (h, W)
    return np.einsum("ik,lk->il", rows, C, optimize=False)        # (h, w)


def ink_box(image: np.ndarray, threshold: float = INK_THRESHOLD) -> tuple[int, int, int, int] | None:
    """The bounding box of the pixels above ``threshold`` in ``image`` (H, W).

    Returns
    -------
    (top, bottom, left, right) or None
        Half-open bounds (``image[top:bottom, left:right]`` is the ink), or None when no
        pixel is above the threshold.
    """
    ink = np.asarray(image) > threshold
    rows = np.flatnonzero(ink.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(ink.any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    """Centre of mass (row, column) of ``image`` (H, W), in pixel-index coordinates.

    The first pixel's centre is 0. An image with no mass gives the geometric centre.
    """
    img = np.asarray(image, dtype=np.float64)
    total = img.sum()
    H, W = img.shape
    if total <= 0:
        return (H - 1) / 2.0, (W - 1) / 2.0
    cy = float(img.sum(axis=1) @ np.arange(H)) / total
    cx = float(img.sum(axis=0) @ np.arange(W)) / total
    return cy, cx


def to_mnist(image: np.ndarray, preprocess: bool = True, *,
             threshold: float = INK_THRESHOLD) -> np.ndarray:
    """A drawing as the 28x28 image the network expects, as MNIST's digits were made.

    Parameters
    ----------
    image : ndarray, (H, W)
        The drawing, white ink (1) on black (0); values are clipped to [0, 1].
    preprocess : bool
        ``True``: crop to the ink (pixels above ``threshold``), scale the crop so its longer
        side is 20 pixels keeping its aspect ratio (area averaging), and place it in a 28x28
        field with its centre of mass at (14, 14) (whole-pixel shift, clipped so the digit
        stays inside). ``False``: only area-average the whole drawing down to 28x28.
    threshold : float
        What counts as ink when cropping.

    Returns
    -------
    ndarray, (28, 28), float32 in [0, 1]
        All zeros for an image with no ink.
    """
    img = np.clip(np.asarray(image, dtype=np.float64), 0.0, 1.0)
    if img.ndim != 2 or min(img.shape) < 1:
        raise ValueError(f"to_mnist expects a 2-D image (H, W), got shape {img.shape}")
    out = np.zeros((MNIST_SIZE, MNIST_SIZE), dtype=np.float64)
    if not preprocess:
        out = resample(img, (MNIST_SIZE, MNIST_SIZE))
        return np.clip(out, 0.0, 1.0).astype(np.float32)
    box = ink_box(img, threshold)
    if box is None:
        return out.astype(np.float32)
    top, bottom, left, right = box
    crop = img[top:bottom, left:right]
    H, W = crop.shape
    scale = MNIST_BOX / max(H, W)
    h = min(MNIST_BOX, int(np.ceil(H * scale - 1e-9)))
    w = min(MNIST_BOX, int(np.ceil(W * scale - 1e-9)))
    small = resample(crop, (h, w), scale)
    cy, cx = centre_of_mass(small)
    oy = int(np.clip(np.round(MNIST_CENTRE - cy), 0, MNIST_SIZE - h))
    ox = int(np.clip(np.round(MNIST_CENTRE - cx), 0, MNIST_SIZE - w))
    out[oy:oy + h, ox:ox + w] = small
    return np.clip(out, 0.0, 1.0).astype(np.float32)
