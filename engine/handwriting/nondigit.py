"""Judging "not a digit": the rule that tells digits from drawings that are none.

(The negatives it is fitted on are made in :mod:`engine.handwriting.negatives`.) :func:`fit_detector` fits a
small network (one tanh layer of :data:`HIDDEN` units) on the model's hidden layer, its top
probability and the ink's shape, telling digits from such drawings, with a threshold that lets
a chosen share of held-out digits through (a model saved with the older linear detector keeps it); the
detector is kept in the model's record (``record.notes["nondigit"]``). :func:`is_digit`
applies it; :func:`engine.read` turns it, with the top probability, into the one verdict the
window shows (``benchmarks/handwriting_check.py`` measures both sides on real drawings).
"""
from __future__ import annotations

import numpy as np

from ..net.model import Model

__all__ = ["THRESHOLD", "HIDDEN", "features", "fit_detector", "loss_and_grad", "digit_score", "is_digit"]

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

    ``forward``: the model's :class:`engine.net.model.Forward` of these images when the caller
    already has it (the window's reading): no second forward pass."""
    images = np.asarray(images, dtype=np.float32).reshape(-1, 28, 28)
    f = forward if forward is not None else model.forward(model.prepare(images), maps=False)
    top = np.log(np.maximum(f.proba.max(axis=1), 1e-12))[:, None]
    return np.concatenate([f.hidden.astype(np.float64), top, _shape(images)], axis=1)


#: Hidden units of the detector (a one-hidden-layer network on :func:`features`).
HIDDEN = 32


def _forward(params, Z):
    """Hidden activations ``(N, HIDDEN)`` and scores (logits) ``(N,)`` of the detector."""
    W1, b1, w2, b2 = params
    A = np.tanh(Z @ W1 + b1)
    return A, A @ w2 + b2[0]


def loss_and_grad(params, Z, y, weight, decay: float = 1e-4):
    """The detector's weighted logistic loss and its gradient.

    Parameters
    ----------
    params : list of ndarray
        ``[W1 (F, H), b1 (H,), w2 (H,), b2 (1,)]``.
    Z : ndarray, (N, F)
        Standardised features.
    y : ndarray, (N,)
        1 for a digit, 0 for a non-digit.
    weight : ndarray, (N,)
        Each example's weight.
    decay : float
        L2 penalty ``decay / 2 * (|W1|^2 + |w2|^2)``.

    Returns
    -------
    loss : float
    grads : list of ndarray, shaped as ``params``
    """
    W1, b1, w2, b2 = params
    A, s = _forward(params, Z)
    loss = float(np.sum(weight * (np.logaddexp(0.0, s) - y * s)) + decay / 2 * (np.sum(W1 ** 2) + np.sum(w2 ** 2)))
    g = (1.0 / (1.0 + np.exp(-s)) - y) * weight                     # d loss / d s, (N,)
    gA = np.outer(g, w2) * (1.0 - A ** 2)                           # (N, H)
    return loss, [Z.T @ gA + decay * W1, gA.sum(0), A.T @ g + decay * w2, np.array([g.sum()])]


def fit_detector(model: Model, digits: np.ndarray, others: np.ndarray, *, check: np.ndarray | None = None,
                 keep: float = 0.99, steps: int = 800, hidden: int = HIDDEN, seed: int = 0) -> dict:
    """Fit a small network (one tanh layer) telling digits from non-digits on :func:`features`.

    Parameters
    ----------
    model : Model
    digits, others : ndarray, (N, 28, 28) and (M, 28, 28)
        Digits and non-digits in [0, 1]; each side weighs half.
    check : ndarray, (K, 28, 28), optional
        Digits that set the threshold (``keep`` of them pass); default ``digits``.
    keep : float
    steps : int
        Full-batch gradient steps (Adam, rate 0.01 with a cosine decay to 0: without it the loss
        spikes now and then late in the fit, and where it ends depended on the seed).
    hidden : int
    seed : int

    Returns
    -------
    dict
        ``{"W1": (F, hidden) nested list, "b1", "w2", "b2", "mean", "scale", "threshold"}``
        (``F = H + 4``), JSON-ready (it is kept in the model's record, ``record.notes["nondigit"]``).
    """
    Fd = features(model, digits)
    F = np.concatenate([Fd, features(model, others)])
    y = np.r_[np.ones(len(digits)), np.zeros(len(others))]
    weight = np.where(y == 1, 0.5 / len(digits), 0.5 / len(others))
    mean, scale = F.mean(0), F.std(0) + 1e-6
    Z = ((F - mean) / scale).astype(np.float32)           # float32: twice as fast, precise enough
    y, weight = y.astype(np.float32), weight.astype(np.float32)
    rng = np.random.default_rng(seed)
    params = [rng.normal(0, 1 / np.sqrt(Z.shape[1]), (Z.shape[1], hidden)), np.zeros(hidden),
              rng.normal(0, 1 / np.sqrt(hidden), hidden), np.zeros(1)]
    params = [p.astype(np.float32) for p in params]
    m1 = [np.zeros_like(p) for p in params]
    v1 = [np.zeros_like(p) for p in params]
    for t in range(1, steps + 1):
        rate = 0.005 * (1 + np.cos(np.pi * (t - 1) / steps))       # 0.01, cosine decay: a steady end
        _, grads = loss_and_grad(params, Z, y, weight)
        for p, g, m, v in zip(params, grads, m1, v1):
            m *= 0.9
            m += 0.1 * g
            v *= 0.999
            v += 0.001 * g * g
            p -= rate * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
    det = {"W1": _short(params[0]), "b1": _short(params[1]), "w2": _short(params[2]), "b2": float(params[3][0]),
           "mean": _short(mean), "scale": _short(scale), "threshold": 0.0}
    s = _score(det, Fd if check is None else features(model, check))
    det["threshold"] = float(np.quantile(s, 1 - keep))
    return det


def _short(a: np.ndarray) -> list:
    """``a`` as (nested) lists of floats of 6 significant digits (the record is JSON text in the model file)."""
    return np.vectorize(lambda v: float(f"{v:.6g}"), otypes=[float])(np.asarray(a, np.float64)).tolist()


def _score(det: dict, F: np.ndarray) -> np.ndarray:
    Z = (F - np.asarray(det["mean"])) / np.asarray(det["scale"])
    if "W1" in det:
        params = [np.asarray(det[k], np.float64) for k in ("W1", "b1", "w2")] + [np.array([det["b2"]], float)]
        return 1 / (1 + np.exp(-_forward(params, Z)[1]))
    return 1 / (1 + np.exp(-(Z @ np.asarray(det["w"]) + det["b"])))     # an older model's linear detector


def _usable(det, hidden: int) -> bool:
    if not isinstance(det, dict) or len(det.get("mean", ())) != hidden + 4:
        return False
    if "W1" in det:
        return np.shape(det["W1"])[0] == hidden + 4 and np.shape(det["W1"])[1:] == np.shape(det["w2"])
    return len(det.get("w", ())) == hidden + 4


def digit_score(model: Model, images: np.ndarray, forward=None) -> tuple[np.ndarray, float]:
    """How much each drawing ``(N, 28, 28)`` in [0, 1] looks like a digit, ``(N,)`` in [0, 1], and
    the threshold under which it is not one. A model with no detector in its record
    (``record.notes["nondigit"]``) scores its top probability against :data:`THRESHOLD`."""
    images = np.asarray(images, dtype=np.float32).reshape(-1, 28, 28)
    det = model.record.notes.get("nondigit")
    if _usable(det, model.config.hidden):
        return _score(det, features(model, images, forward)), float(det["threshold"])
    proba = forward.proba if forward is not None else model.predict_proba(images)
    return proba.max(axis=1).astype(np.float64), THRESHOLD


def is_digit(model: Model, images: np.ndarray, forward=None) -> np.ndarray:
    """Whether each drawing ``(N, 28, 28)`` is read as a digit (bool ``(N,)``); blank ones are not.
    ``forward``: the model's Forward of these images, if the caller has it."""
    images = np.asarray(images, dtype=np.float32).reshape(-1, 28, 28)
    score, threshold = digit_score(model, images, forward)
    return (score >= threshold) & (images.max(axis=(1, 2)) > 0)
