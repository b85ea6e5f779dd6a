"""The personal collection as pen recordings: export its strokes in the UNIPEN dialect
(:mod:`engine.handwriting.unipen`), import recordings (rendered as the window's canvas draws, by
:mod:`engine.handwriting.pen`), so a collection can be re-rendered and shared.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from . import collection as collection_file
from ..files.safefile import check_stop
from .collection import Collection, InkStroke
from .pen import place, render_sample
from .strokes import BRUSH
from .unipen import PenSample, read_unipen, write_unipen

__all__ = ["export_pen", "import_pen", "pen_samples", "DEFAULT_WRITER"]

#: The writer named in exported recordings unless another is given.
DEFAULT_WRITER = "digitlab-user"


def pen_samples(collection: Collection, writer: str = DEFAULT_WRITER) -> tuple[list[PenSample], int]:
    """The drawings that have strokes and no eraser stroke, as :class:`PenSample` (canvas
    pixels, y down, rounded to 1/100 pixel); and how many drawings were left out."""
    out = []
    for label, strokes in zip(collection.labels, collection.strokes):
        if strokes and not any(s.erase for s in strokes):
            out.append(PenSample(str(int(label)), writer, tuple(np.round(s.points, 2) for s in strokes), "DIGIT"))
    return out, len(collection) - len(out)


def export_pen(collection: Collection, path, writer: str = DEFAULT_WRITER) -> tuple[int, int]:
    """Write the collection's strokes to a UNIPEN file (gzip when ``path`` ends ``.gz``),
    atomically. Returns (drawings written, drawings left out: images only or erased).
    Raises ValueError when no drawing has strokes, UnipenError when the file cannot be written."""
    samples, left = pen_samples(collection, writer)
    if not samples:
        raise ValueError(f"{path}: none of the {len(collection)} drawings has its strokes (drawings kept before "
                         "strokes were kept, or drawn with the eraser), so there is nothing to write")
    write_unipen(samples, path)
    return len(samples), left


def import_pen(path, *, should_stop: Callable[[], bool] | None = None) -> tuple[Collection, int]:
    """A pen recording as a collection: each DIGIT sample placed on the canvas and rendered as
    the window would (:func:`engine.handwriting.pen.render_sample`), with its placed strokes kept.

    Returns
    -------
    (Collection, int)
        The digits, and how many samples were left out (not digits, e.g. letters). Raises
        :class:`engine.handwriting.unipen.UnipenError` naming the file for a malformed one, ValueError when
        it holds no digits or more than a collection may hold.
    """
    samples = read_unipen(path)
    digits = [s for s in samples if s.kind == "DIGIT"]
    if not digits:
        raise ValueError(f"{path}: no digits in it ({len(samples):,} samples of other kinds)")
    if len(digits) > collection_file.MAX_DRAWINGS:
        raise ValueError(f"{path}: {len(digits):,} digits, more than the {collection_file.MAX_DRAWINGS:,} a "
                         "collection may hold")
    images = np.empty((len(digits), 28, 28), np.float32)
    strokes = []
    for i, s in enumerate(digits):
        if i % 256 == 0:
            check_stop(should_stop, "importing")
        images[i] = render_sample(s)
        strokes.append(tuple(InkStroke(p, BRUSH) for p in place(s)))
    labels = np.array([int(s.label) for s in digits], np.int64)
    return Collection(images, labels, strokes), len(samples) - len(digits)
