"""Other plausible drawings of a recorded digit: the same strokes, moved a little as another
writer (or the same one, another time) would draw them: :func:`vary`.

The image-level augmentation of the backprop mode (:mod:`engine.train.augment`) moves a
whole image: shift, rotation, scale, slant, stroke width. What differs between writers is
often inside the drawing: where the crossbar of a 7 or the stem of a 4 lands against the
rest, how round a loop is, how far a tail runs. :func:`vary` changes that, before the
drawing is placed and rendered as the window would (:func:`engine.handwriting.pen.render_sample`):

- each stroke of a drawing of several strokes is turned about its own centre and shifted,
  by a small random amount (a single stroke is left where it is: the image augmentation
  moves it);
- every point is displaced by a smooth random field (two random plane waves for each axis),
  which bends lines and changes the proportions of loops, tails and bars.

Amounts are fractions of the drawing's longer side, so that they do not depend on the
recording's units.
"""
from __future__ import annotations

import numpy as np

from .unipen import PenSample

__all__ = ["vary"]


def vary(sample: PenSample, rng: np.random.Generator, *, shift: float = 0.05, turn: float = 0.15,
         bend: float = 0.05) -> PenSample:
    """A varied copy of ``sample`` (same label, writer and kind).

    Parameters
    ----------
    sample : PenSample
    rng : numpy.random.Generator
    shift : float
        Standard deviation of each stroke's shift, as a fraction of the drawing's longer side.
    turn : float
        Each stroke's turn about its centre is uniform in ``[-turn, turn]`` radians.
    bend : float
        Amplitude of the smooth displacement field, as a fraction of the longer side.

    Returns
    -------
    PenSample
        Strokes ``(n, 2)`` with the same number of points as the original's.
    """
    pts = sample.points()
    lo, hi = pts.min(0), pts.max(0)
    extent = float((hi - lo).max()) or 1.0
    # the smooth field: per axis, two plane waves of about one to two cycles across the drawing
    freq = rng.uniform(0.5, 2.0, (2, 2, 1)) * rng.choice([-1.0, 1.0], (2, 2, 1))
    direction = rng.normal(size=(2, 2, 2))
    direction /= np.linalg.norm(direction, axis=2, keepdims=True)
    phase = rng.uniform(0, 2 * np.pi, (2, 2))
    amp = rng.uniform(0.0, bend, (2, 2)) * extent
    several = len(sample.strokes) > 1
    out = []
    for s in sample.strokes:
        p = np.asarray(s, dtype=np.float64)
        if several:
            c = p.mean(0)
            a = rng.uniform(-turn, turn)
            rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
            p = (p - c) @ rot.T + c + rng.normal(0.0, shift * extent, 2)
        u = (p - lo) / extent                                        # (n, 2), about [0, 1]
        waves = np.sin(2 * np.pi * freq[..., 0][..., None] * (u @ direction.transpose(0, 2, 1)).transpose(0, 2, 1)
                       + phase[..., None])                           # (axis, wave, n)
        p = p + (amp[..., None] * waves).sum(1).T
        out.append(p)
    return PenSample(sample.label, sample.writer, tuple(out), sample.kind)
