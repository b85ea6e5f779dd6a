"""Judging "not a digit": the rule that tells digits from drawings that are none.

(The negatives it is fitted on are made in :mod:`engine.negatives`.) :func:`fit_detector` fits a logistic
regression on the model's hidden layer, its top probability and the ink's shape, telling
digits from such drawings, with a threshold that lets 99% of held-out digits through; the
detector is kept in the model's record (``record.notes["nondigit"]``). :func:`is_digit`
applies it; :func:`engine.read` turns it, with the top probability, into the one verdict the
window shows (``benchmarks/handwriting_check.py`` measures both sides on real drawings).
"""
from __future__ import annotations

import numpy as np

from .model import Model

__all__ = ["THRESHOLD", "features", "fit_detector", "digit_score", "is_digit"]

#: A drawing scoring under this is not a digit.
THRESHOLD = 0.5


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
