"""Saying "not a digit": drawings that are no digit, and the rule that tells them apart.

:func:`make_nondigits` draws scribbles, dots, single lines (flat or steeply leaning, not
upright: an upright line is a 1) and capital letters that look like no digit, stroke by
stroke as :mod:`engine.strokes` draws digits. :func:`fit_detector` fits a logistic
regression on the model's hidden layer, its top probability and the ink's shape, telling
digits from such drawings, with a threshold that lets 99% of held-out digits through; the
detector is kept in the model's record (``record.notes["nondigit"]``). :func:`is_digit`
applies it (``benchmarks/style_check.py`` measures both sides).
"""
from __future__ import annotations

import numpy as np

from .model import Model
from .preprocess import to_mnist
from .strokes import BRUSH, CANVAS, draw, render

__all__ = ["KINDS", "LETTERS", "THRESHOLD", "make_nondigits", "features", "fit_detector", "digit_score", "is_digit"]

#: Kinds of non-digit drawings.
KINDS = ("scribble", "dots", "line", "letter")
#: A drawing scoring under this is not a digit.
THRESHOLD = 0.5


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


def _shape(images: np.ndarray) -> np.ndarray:
    """Shape features ``(N, 3)``: ink box height over width, how full the box is, ink amount."""
    ink = images > 0.3
    h = ink.any(axis=2).sum(1)
    w = ink.any(axis=1).sum(1)
    fill = ink.sum((1, 2)) / np.maximum(h * w, 1)
    return np.stack([np.minimum(h / np.maximum(w, 1), 4.0), fill, images.sum((1, 2)) / 100.0], 1)


def features(model: Model, images: np.ndarray, forward=None) -> np.ndarray:
    """What the detector weighs, ``(N, H + 4)``: the hidden layer, the log top probability, the shape.

    ``forward``: the model's :class:`engine.model.Forward` of these images when the caller
    already has it (the window's reading): no second forward pass."""
    images = np.asarray(images, dtype=np.float32).reshape(-1, 28, 28)
    f = forward if forward is not None else model.forward(model.prepare(images), maps=False)
    top = np.log(np.maximum(f.proba.max(axis=1), 1e-12))[:, None]
    return np.concatenate([f.hidden.astype(np.float64), top, _shape(images)], axis=1)


def fit_detector(model: Model, digits: np.ndarray, others: np.ndarray, *, check: np.ndarray | None = None,
                 keep: float = 0.99, steps: int = 400, seed: int = 0) -> dict:
    """Fit a logistic regression telling digits from non-digits on :func:`features`.

    Parameters
    ----------
    model : Model
    digits, others : ndarray, (N, 28, 28) and (M, 28, 28)
        Digits and non-digits in [0, 1].
    check : ndarray, (K, 28, 28), optional
        Digits that set the threshold (``keep`` of them pass); default ``digits``.
    keep : float
    steps : int
        Full-batch gradient steps (Adam).

    Returns
    -------
    dict
        ``{"w": list (H + 4), "b": float, "mean": list, "scale": list, "threshold": float}``,
        JSON-ready (it is kept in the model's record, ``record.notes["nondigit"]``).
    """
    Fd = features(model, digits)
    F = np.concatenate([Fd, features(model, others)])
    y = np.r_[np.ones(len(digits)), np.zeros(len(others))]
    weight = np.where(y == 1, 0.5 / len(digits), 0.5 / len(others))
    mean, scale = F.mean(0), F.std(0) + 1e-6
    Z = (F - mean) / scale
    w = np.zeros(Z.shape[1])
    b = 0.0
    m1, v1 = np.zeros(len(w) + 1), np.zeros(len(w) + 1)
    for t in range(1, steps + 1):
        p = 1 / (1 + np.exp(-(Z @ w + b)))
        g = (p - y) * weight
        grad = np.r_[Z.T @ g + 1e-4 * w, g.sum()]
        m1 = 0.9 * m1 + 0.1 * grad
        v1 = 0.999 * v1 + 0.001 * grad ** 2
        step = 0.05 * (m1 / (1 - 0.9 ** t)) / (np.sqrt(v1 / (1 - 0.999 ** t)) + 1e-8)
        w -= step[:-1]
        b -= step[-1]
    det = {"w": w.tolist(), "b": float(b), "mean": mean.tolist(), "scale": scale.tolist(), "threshold": 0.0}
    s = _score(det, Fd if check is None else features(model, check))
    det["threshold"] = float(np.quantile(s, 1 - keep))
    return det


def _score(det: dict, F: np.ndarray) -> np.ndarray:
    Z = (F - np.asarray(det["mean"])) / np.asarray(det["scale"])
    return 1 / (1 + np.exp(-(Z @ np.asarray(det["w"]) + det["b"])))


def digit_score(model: Model, images: np.ndarray, forward=None) -> tuple[np.ndarray, float]:
    """How much each drawing ``(N, 28, 28)`` in [0, 1] looks like a digit, ``(N,)`` in [0, 1], and
    the threshold under which it is not one. A model with no detector in its record
    (``record.notes["nondigit"]``) scores its top probability against :data:`THRESHOLD`."""
    images = np.asarray(images, dtype=np.float32).reshape(-1, 28, 28)
    det = model.record.notes.get("nondigit")
    if isinstance(det, dict) and len(det.get("w", ())) == model.config.hidden + 4:
        return _score(det, features(model, images, forward)), float(det["threshold"])
    proba = forward.proba if forward is not None else model.predict_proba(images)
    return proba.max(axis=1).astype(np.float64), THRESHOLD


def is_digit(model: Model, images: np.ndarray, forward=None) -> np.ndarray:
    """Whether each drawing ``(N, 28, 28)`` is read as a digit (bool ``(N,)``); blank ones are not.
    ``forward``: the model's Forward of these images, if the caller has it."""
    images = np.asarray(images, dtype=np.float32).reshape(-1, 28, 28)
    score, threshold = digit_score(model, images, forward)
    return (score >= threshold) & (images.max(axis=(1, 2)) > 0)
