"""Drawings that are no digit, the negatives the "not a digit" check is fitted on.

:func:`make_nondigits` draws scribbles, dots, single lines (flat or steeply leaning, not
upright: an upright line is a 1) and capital letters that look like no digit, stroke by
stroke as :mod:`engine.handwriting.strokes` draws digits. :func:`real_letters` picks, from pen recordings
of letters (:mod:`engine.handwriting.unipen`), the letters that look like no digit (:data:`UNLIKE_DIGITS`)
and renders them as the window would (:func:`engine.handwriting.pen.render_samples`).
:mod:`engine.handwriting.nondigit` judges.
"""
from __future__ import annotations

import numpy as np

from ..net.preprocess import to_mnist
from .strokes import BRUSH, CANVAS, draw, render

__all__ = ["KINDS", "LETTERS", "UNLIKE_DIGITS", "make_nondigits", "real_letters"]

#: Kinds of non-digit drawings.
KINDS = ("scribble", "dots", "line", "letter")
#: Letters that look like no digit (those a check of "not a digit" is measured on); O, I, l,
#: S, Z, B, g, q, b and the like are written as digits are.
UNLIKE_DIGITS = tuple("AEFHKMNPRUVWXY") + tuple("acehkmnruvwx")


def _s(*pts):
    return np.array(pts, float)


#: Capital letters no digit looks like, as strokes in the unit box.
LETTERS: dict[str, list[np.ndarray]] = {
    "A": [_s((0.0, 1.0), (0.35, 0.0), (0.7, 1.0)), _s((0.15, 0.6), (0.55, 0.6))],
    "E": [_s((0.65, 0.0), (0.05, 0.0), (0.05, 1.0), (0.65, 1.0)), _s((0.05, 0.5), (0.5, 0.5))],
    "F": [_s((0.65, 0.0), (0.05, 0.0), (0.05, 1.0)), _s((0.05, 0.5), (0.5, 0.5))],
    "H": [_s((0.05, 0.0), (0.05, 1.0)), _s((0.65, 0.0), (0.65, 1.0)), _s((0.05, 0.5), (0.65, 0.5))],
    "K": [_s((0.05, 0.0), (0.05, 1.0)), _s((0.65, 0.0), (0.05, 0.55), (0.65, 1.0))],
    "M": [_s((0.0, 1.0), (0.05, 0.0), (0.35, 0.6), (0.65, 0.0), (0.7, 1.0))],
    "N": [_s((0.05, 1.0), (0.05, 0.0), (0.65, 1.0), (0.65, 0.0))],
    "R": [np.concatenate([_s((0.05, 1.0), (0.05, 0.0), (0.4, 0.0)),
                          np.stack([0.4 + 0.25 * np.sin(np.linspace(0, np.pi, 10)),
                                    0.25 - 0.25 * np.cos(np.linspace(0, np.pi, 10))], 1),
                          _s((0.05, 0.5), (0.65, 1.0))])],
    "T": [_s((0.0, 0.0), (0.7, 0.0)), _s((0.35, 0.0), (0.35, 1.0))],
    "V": [_s((0.0, 0.0), (0.35, 1.0), (0.7, 0.0))],
    "W": [_s((0.0, 0.0), (0.18, 1.0), (0.35, 0.3), (0.52, 1.0), (0.7, 0.0))],
    "X": [_s((0.0, 0.0), (0.7, 1.0)), _s((0.7, 0.0), (0.0, 1.0))],
    "Y": [_s((0.0, 0.0), (0.35, 0.5), (0.7, 0.0)), _s((0.35, 0.5), (0.35, 1.0))],
    "#": [_s((0.2, 0.0), (0.2, 1.0)), _s((0.5, 0.0), (0.5, 1.0)), _s((0.0, 0.33), (0.7, 0.33)),
          _s((0.0, 0.66), (0.7, 0.66))],
    "+": [_s((0.35, 0.1), (0.35, 0.9)), _s((0.0, 0.5), (0.7, 0.5))],
}


def _scribble(rng: np.random.Generator) -> list[np.ndarray]:
    n = int(rng.integers(6, 18))
    v = rng.normal(0, 1, (n, 2)).cumsum(0)
    v = (v - v.min(0)) / max(np.ptp(v, 0).max(), 1e-9)
    t = np.linspace(0, 1, n)
    tt = np.linspace(0, 1, n * 6)
    p = np.stack([np.interp(tt, t, v[:, 0]), np.interp(tt, t, v[:, 1])], 1)
    size = CANVAS * rng.uniform(0.3, 0.8)
    return [p * size + rng.uniform(20, CANVAS - 20 - size, 2)]


def _dots(rng: np.random.Generator) -> list[np.ndarray]:
    pts = rng.uniform(30, CANVAS - 30, (int(rng.integers(1, 4)), 2))
    return [p[None] + rng.normal(0, 1.5, (2, 2)) for p in pts]


def _line(rng: np.random.Generator) -> list[np.ndarray]:
    # at least 35 degrees from upright: an upright line is a 1
    angle = np.radians(rng.uniform(35, 145))
    length = CANVAS * rng.uniform(0.3, 0.8)
    c = rng.uniform(0.35, 0.65, 2) * CANVAS
    d = np.array([np.sin(angle), np.cos(angle)]) * length / 2
    t = np.linspace(-1, 1, 12)[:, None]
    return [c + t * d + rng.normal(0, 1.0, (12, 2))]


def make_nondigits(n: int, rng: np.random.Generator, *, kinds=KINDS) -> tuple[np.ndarray, list[str]]:
    """Drawings that are no digit, as the window reads them.

    Parameters
    ----------
    n : int
        How many; the kinds take turns.
    rng : numpy.random.Generator
    kinds : sequence of str
        Some of :data:`KINDS`.

    Returns
    -------
    images : ndarray, (n, 28, 28), float32 in [0, 1]
    kinds : list of str, (n,)
        The kind of each drawing (``"letter A"`` for letters).
    """
    out = np.empty((n, 28, 28), np.float32)
    names = []
    for i in range(n):
        kind = kinds[i % len(kinds)]
        if kind == "scribble":
            s = _scribble(rng)
        elif kind == "dots":
            s = _dots(rng)
        elif kind == "line":
            s = _line(rng)
        elif kind == "letter":
            letter = str(rng.choice(list(LETTERS)))
            s = draw(LETTERS[letter], rng)
            kind = f"letter {letter}"
        else:
            raise ValueError(f"unknown kind {kind!r}: use some of {', '.join(KINDS)}")
        out[i] = to_mnist(render(s, BRUSH * rng.uniform(0.75, 1.3)))
        names.append(kind)
    return out, names


def real_letters(samples, letters=UNLIKE_DIGITS) -> tuple[np.ndarray, list]:
    """The recorded letters among ``samples`` (kind CHAR) whose label is in ``letters``, rendered.

    Returns
    -------
    images : ndarray, (n, 28, 28), float32 in [0, 1]
    samples : list of PenSample, (n,)
    """
    from .pen import render_samples
    chosen = [s for s in samples if s.kind == "CHAR" and s.label in set(letters)]
    return render_samples(chosen), chosen
