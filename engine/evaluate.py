"""Evaluation: test error, the article's "percent correct", arg-max accuracy, confusion matrix."""
from __future__ import annotations

import numpy as np

from .model import Model
from .record import TestFigures

__all__ = ["evaluate", "onehot", "confusion_matrix"]


def onehot(labels: np.ndarray, classes: int = 10, dtype=np.float64) -> np.ndarray:
    """One-hot rows ``(N, classes)`` for integer labels ``(N,)``."""
    labels = np.asarray(labels)
    out = np.zeros((labels.shape[0], classes), dtype=dtype)
    out[np.arange(labels.shape[0]), labels] = 1.0
    return out


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, classes: int = 10) -> np.ndarray:
    """``(classes, classes)`` counts, ``[true, predicted]``, from two ``(N,)`` label arrays."""
    return np.bincount(labels * classes + predicted, minlength=classes * classes).reshape(classes, classes)


def evaluate(model: Model, X: np.ndarray, labels: np.ndarray, *, pooled_tanh: bool = True,
             batch: int = 500) -> TestFigures:
    """Evaluate ``model`` on normalised images.

    Parameters
    ----------
    model : Model
    X : ndarray, (N, 28, 28)
        Normalised test images.
    labels : ndarray of int, (N,)
    pooled_tanh : bool
        ``False`` reproduces the article's test code, which leaves out the tanh on the
        pooled layer.
    batch : int
        Images per forward pass (bounds memory).

    Returns
    -------
    TestFigures
        Test error (mean of ``sum((proba - onehot)**2)``), percent correct (the article's
        metric: every rounded probability equals the one-hot target), arg-max accuracy (both
        in percent), the confusion matrix ``(10, 10)`` ``[true, predicted]``, images.
    """
    labels = np.asarray(labels).astype(np.int64)
    n = labels.shape[0]
    classes = model.config.classes
    sq = 0.0
    correct_article = 0
    predicted = np.empty(n, dtype=np.int64)
    for i in range(0, n, batch):
        proba = model.forward(X[i:i + batch], pooled_tanh=pooled_tanh, maps=False).proba.astype(np.float64)
        y = onehot(labels[i:i + batch], classes)
        sq += float(((proba - y) ** 2).sum())
        correct_article += int((np.round(proba) == y).all(axis=1).sum())
        predicted[i:i + batch] = proba.argmax(axis=1)
    return TestFigures(sq / n, 100.0 * correct_article / n, 100.0 * float((predicted == labels).mean()),
                       n, confusion_matrix(labels, predicted, classes))
