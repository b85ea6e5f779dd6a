"""Calibrated probabilities: temperature scaling, the expected calibration error, reliability.

A model's top probability should be how often it is right. Temperature scaling divides the
logits by one number ``T`` fitted on images held out from training (the negative
log-likelihood is minimised over ``T``); it never changes the arg-max. The expected
calibration error (ECE) bins the top probabilities and averages ``|accuracy - confidence|``
over the bins, weighted by their counts.
"""
from __future__ import annotations

import numpy as np

from ..net.model import Model

__all__ = ["BINS", "log_proba", "fit_temperature", "ece", "reliability", "calibrated"]

#: Bins of the expected calibration error and of the reliability diagram.
BINS = 15


def log_proba(model: Model, images01: np.ndarray) -> np.ndarray:
    """Log-probabilities ``(N, 10)`` of the model with temperature 1, for images ``(N, 28, 28)`` in [0, 1]."""
    plain = model.copy()
    plain.temperature = 1.0
    p = plain.predict_proba(images01).astype(np.float64)
    return np.log(np.maximum(p, 1e-45))


def _nll(logp: np.ndarray, labels: np.ndarray, t: float) -> float:
    z = logp / t
    z -= z.max(axis=1, keepdims=True)
    lse = np.log(np.exp(z).sum(axis=1))
    return float((lse - z[np.arange(len(labels)), labels]).mean())


def fit_temperature(model: Model, images01: np.ndarray, labels: np.ndarray) -> float:
    """The temperature that minimises the negative log-likelihood on held-out images.

    Parameters
    ----------
    model : Model
        Its own temperature is ignored (the fit starts from the raw logits).
    images01 : ndarray, (N, 28, 28)
        Images in [0, 1] the model was not trained on.
    labels : ndarray of int, (N,)

    Returns
    -------
    float
        ``T`` in [0.05, 20] (golden-section search on ``log T``).
    """
    labels = np.asarray(labels, dtype=np.int64)
    if len(labels) == 0:
        raise ValueError("fitting a temperature needs at least one labelled image")
    logp = log_proba(model, images01)
    lo, hi = np.log(0.05), np.log(20.0)
    g = (np.sqrt(5) - 1) / 2
    a, b = hi - g * (hi - lo), lo + g * (hi - lo)
    fa, fb = _nll(logp, labels, np.exp(a)), _nll(logp, labels, np.exp(b))
    for _ in range(60):
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - g * (hi - lo)
            fa = _nll(logp, labels, np.exp(a))
        else:
            lo, a, fa = a, b, fb
            b = lo + g * (hi - lo)
            fb = _nll(logp, labels, np.exp(b))
    return float(np.exp((lo + hi) / 2))


def calibrated(model: Model, images01: np.ndarray, labels: np.ndarray) -> Model:
    """A copy of ``model`` with the temperature fitted on held-out ``images01`` ``(N, 28, 28)``."""
    out = model.copy()
    out.temperature = fit_temperature(model, images01, labels)
    return out


def reliability(proba: np.ndarray, labels: np.ndarray, bins: int = BINS):
    """Confidence against accuracy, by bins of the top probability.

    Parameters
    ----------
    proba : ndarray, (N, C)
    labels : ndarray of int, (N,)
    bins : int
        Equal-width bins of [0, 1].

    Returns
    -------
    confidence, accuracy : ndarray, (bins,)
        Mean top probability and share right in each bin (NaN in an empty bin).
    count : ndarray of int, (bins,)
    """
    proba = np.asarray(proba, dtype=np.float64)
    labels = np.asarray(labels)
    top = proba.max(axis=1)
    right = (proba.argmax(axis=1) == labels).astype(np.float64)
    which = np.minimum((top * bins).astype(int), bins - 1)
    count = np.bincount(which, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        conf = np.bincount(which, top, bins) / count
        acc = np.bincount(which, right, bins) / count
    return conf, acc, count


def ece(proba: np.ndarray, labels: np.ndarray, bins: int = BINS) -> float:
    """Expected calibration error of probabilities ``(N, C)`` against labels ``(N,)``, in [0, 1]."""
    conf, acc, count = reliability(proba, labels, bins)
    seen = count > 0
    if not seen.any():
        return 0.0
    return float((count[seen] * np.abs(acc[seen] - conf[seen])).sum() / count.sum())
