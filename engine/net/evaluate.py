"""Evaluation: test error, the article's "percent correct", arg-max accuracy, confusion matrix;
and the one check of labels and one-hot targets that every mode uses."""
from __future__ import annotations

import numpy as np

from ..train.record import TestFigures
from .blas import one_thread
from .model import Model

__all__ = ["evaluate", "targets", "onehot", "confusion_matrix"]


def targets(Y: np.ndarray, classes: int = 10, dtype=np.float64, *, count: int | None = None
            ) -> np.ndarray:
    """Labels or one-hot rows, checked, as one-hot rows.

    Parameters
    ----------
    Y : ndarray, (N,) whole-number labels in ``0..classes-1``, or (N, classes) rows
    classes : int
    dtype : numpy dtype
        Of the result.
    count : int, optional
        The number of images the targets belong to (``N`` must equal it).

    Returns
    -------
    ndarray, (N, classes)

    Raises
    ------
    ValueError
        Naming what is wrong: the labels' kind, their range, the shape, or the count.
    """
    Y = np.asarray(Y)
    if Y.ndim == 1:
        if not np.issubdtype(Y.dtype, np.integer):
            raise ValueError(f"labels must be whole numbers, not {Y.dtype}")
        if Y.size and (Y.min() < 0 or Y.max() >= classes):
            raise ValueError(f"labels must lie in 0..{classes - 1}, found {Y.min()}..{Y.max()}")
        out = np.zeros((Y.shape[0], classes), dtype=dtype)
        out[np.arange(Y.shape[0]), Y] = 1
    elif Y.ndim == 2 and Y.shape[1] == classes:
        out = np.ascontiguousarray(Y, dtype=dtype)
    else:
        raise ValueError(f"targets must be labels (N,) or one-hot rows (N, {classes}), "
                         f"not shape {Y.shape}")
    if count is not None and out.shape[0] != count:
        raise ValueError(f"{out.shape[0]} {'labels' if Y.ndim == 1 else 'targets'} for {count} images")
    return out


def onehot(labels: np.ndarray, classes: int = 10, dtype=np.float64) -> np.ndarray:
    """One-hot rows ``(N, classes)`` for whole-number labels ``(N,)`` in ``0..classes-1``."""
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must have shape (N,), not {labels.shape}")
    return targets(labels, classes, dtype)


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
    classes = model.config.classes
    Y = onehot(labels, classes)
    n = Y.shape[0]
    if len(X) != n:
        raise ValueError(f"{n} labels for {len(X)} images")
    if n == 0:
        raise ValueError("there are no test images")
    labels = np.asarray(labels).astype(np.int64)
    sq = 0.0
    correct_article = 0
    predicted = np.empty(n, dtype=np.int64)
    with one_thread():                   # (no BLAS helper left spinning after: .blas)
        for i in range(0, n, batch):
            proba = model.forward(X[i:i + batch], pooled_tanh=pooled_tanh, maps=False).proba.astype(np.float64)
            y = Y[i:i + batch]
            sq += float(((proba - y) ** 2).sum())
            correct_article += int((np.round(proba) == y).all(axis=1).sum())
            predicted[i:i + batch] = proba.argmax(axis=1)
    return TestFigures(sq / n, 100.0 * correct_article / n, 100.0 * float((predicted == labels).mean()),
                       n, confusion_matrix(labels, predicted, classes))
