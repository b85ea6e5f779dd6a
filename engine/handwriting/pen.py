"""Pen recordings as the window would see them, and splits that keep whole writers apart.

:func:`place` puts a recorded sample on the window's ``280 x 280`` canvas as a person would
draw it there: scaled to its own bounding box (aspect kept) so that its longer side is two
thirds of the canvas (:data:`DRAWN`), centred, with the points the canvas would keep (one
closer than a quarter pixel to the last is dropped, as the canvas drops it).
:func:`render_sample` then paints it exactly as ``app.reading.canvas.DrawingCanvas`` paints (the
Catmull-Rom path through the points, a round anti-aliased pen of the default width
:data:`engine.handwriting.strokes.BRUSH`, grey levels of 1/255) and makes the network's 28x28 input with
:func:`engine.net.preprocess.to_mnist`.

:func:`held_out_writers` and :func:`split_by_writer` keep at least a fifth of the writers of a
collection out of training, chosen by a stable hash of their names (the same on every machine
and run). :func:`load_collection` reads one of the project's pen files (:data:`COLLECTIONS`).
"""
from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np

from ..net.preprocess import to_mnist
from .strokes import BRUSH, CANVAS, render
from .unipen import PenSample, read_unipen

__all__ = ["DRAWN", "COLLECTIONS", "LETTERS_FILE", "place", "render_sample", "render_samples",
           "held_out_writers", "split_by_writer", "labels_of", "load_collection"]

#: The longer side of a drawing placed on the canvas, in canvas pixels (two thirds of it, the
#: size people draw digits at in the window).
DRAWN = 187.0
#: The digit collections of the project's pen data (file names in its data folder).
COLLECTIONS = {"pendigits": "pendigits-train.unipen.gz", "unipen-1a": "unipen-1a-half.unipen.gz"}
#: The letters (drawings that are not digits) of the project's pen data.
LETTERS_FILE = "unipen-letters-half.unipen.gz"
#: A pointer move closer than this (|dx| + |dy|, canvas pixels) to the last point is not kept
#: (as ``DrawingCanvas`` does).
_MIN_MOVE = 0.25


def place(sample: PenSample, *, size: int = CANVAS, drawn: float = DRAWN) -> list[np.ndarray]:
    """A sample's strokes on the canvas, as a person would draw them there.

    Parameters
    ----------
    sample : PenSample
    size : int
        Canvas side.
    drawn : float
        Longer side of the drawing's bounding box, in canvas pixels.

    Returns
    -------
    list of ndarray, each (n, 2) float64
        Canvas pixels (x right, y down), the drawing's box centred on the canvas.
    """
    allp = sample.points()
    lo, hi = allp.min(0), allp.max(0)
    extent = float((hi - lo).max())
    k = drawn / extent if extent > 0 else 1.0
    centre = (lo + hi) / 2.0
    out = []
    for s in sample.strokes:
        p = (s - centre) * k + size / 2.0
        if len(p) > 1:                      # the canvas keeps a move only 1/4 pixel from the last kept
            keep = np.ones(len(p), bool)
            last = p[0]
            for i in range(1, len(p)):
                if abs(p[i, 0] - last[0]) + abs(p[i, 1] - last[1]) < _MIN_MOVE:
                    keep[i] = False
                else:
                    last = p[i]
            p = p[keep]
        out.append(p)
    return out


def render_sample(sample: PenSample, *, width: float = BRUSH) -> np.ndarray:
    """A sample as the network's input: drawn on the canvas as a person would, read as the window reads.

    Parameters
    ----------
    sample : PenSample
    width : float
        Pen width in canvas pixels (the window's default).

    Returns
    -------
    ndarray, (28, 28), float32 in [0, 1]
    """
    canvas = render(place(sample), width, CANVAS, smooth=True)
    canvas = np.round(canvas * 255.0) / 255.0          # the canvas holds grey levels of 1/255
    return to_mnist(canvas)


def render_samples(samples, *, width: float = BRUSH) -> np.ndarray:
    """:func:`render_sample` of each sample: ``(N, 28, 28)`` float32 in [0, 1]."""
    samples = list(samples)
    out = np.empty((len(samples), 28, 28), np.float32)
    for i, s in enumerate(samples):
        out[i] = render_sample(s, width=width)
    return out


def labels_of(samples) -> np.ndarray:
    """The digit of each sample, ``(N,)`` int64 (for samples of kind DIGIT)."""
    return np.array([int(s.label) for s in samples], np.int64)


def _unit(name: str) -> float:
    """A stable number in [0, 1) for a name (the first 8 bytes of its SHA-256)."""
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big") / 2.0 ** 64


def held_out_writers(writers, fraction: float = 0.2) -> set:
    """The writers kept out of training: ``ceil(fraction * n)`` of the ``n`` distinct ones.

    Chosen by a stable hash of the names (the same on every machine, run and order), so a
    writer is either held out or not, whatever else the collection holds.

    Parameters
    ----------
    writers : iterable of str
        The writers of one collection (repeats allowed).
    fraction : float
        In [0, 1].

    Returns
    -------
    set of str
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be in [0, 1], got {fraction}")
    names = sorted(set(writers), key=lambda w: (_unit(w), w))
    return set(names[:math.ceil(fraction * len(names) - 1e-9)])


def split_by_writer(samples, fraction: float = 0.2) -> tuple[list, list]:
    """Samples of the writers kept for training and of those held out (:func:`held_out_writers`).

    Returns
    -------
    (train, test) : lists of PenSample, in their original order
    """
    samples = list(samples)
    held = held_out_writers((s.writer for s in samples), fraction)
    return [s for s in samples if s.writer not in held], [s for s in samples if s.writer in held]


def load_collection(folder, name: str) -> list[PenSample]:
    """The samples of one of the project's pen files: a key of :data:`COLLECTIONS`, ``"letters"``,
    or a file name, in ``folder``."""
    file = COLLECTIONS.get(name, LETTERS_FILE if name == "letters" else name)
    return read_unipen(Path(folder) / file)
