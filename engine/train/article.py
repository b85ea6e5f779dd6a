"""The article's training mode: per-image SGD with every quirk, exact and fast.

:class:`ArticleStepper` runs the article's loop (``docs/article-algorithm.md``) one image
at a time, in order, on ``model.params`` in place; the work is done a chunk of images at
a time by the compiled loop :func:`engine.train.article_loop.train_chunk`, which agrees with
the readable oracle ``tests/engine/oracle_article.py`` to rounding.

Dropout masks are drawn as the article draws them, ``randint(0, 2, (1, H))`` per image;
one ``rng.randint(0, 2, (n, H))`` per chunk draws exactly the same numbers, so a
``RandomState(S)`` that drew the initial weights (:meth:`engine.net.model.Model.article_init`)
and then the masks reproduces the article's run after ``np.random.seed(S)``.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np

from ..net.evaluate import targets
from ..net.model import Model
from .article_loop import train_chunk

__all__ = ["ArticleStepper"]


class ArticleStepper:
    """The article's per-image SGD as a :class:`engine.train.training.Stepper`.

    Parameters
    ----------
    model : Model
        Float64 parameters ``K`` (k, f*f), ``W1`` (P, H), ``W2`` (H, C), no biases;
        trained in place.
    X : ndarray, (N, S, S)
        Normalised images (the article: ``(X - X.mean()) / X.var()``).
    Y : ndarray, (N,) int labels or (N, C) one-hot rows
    alpha : float
        Learning rate (the article: 0.01).
    dropout : bool
        The article's dropout: a mask ``rng.randint(0, 2, (1, H))`` per image,
        ``l1 *= 2m`` and ``s1 *= m``.
    rng : numpy.random.RandomState or None
        Source of the dropout masks; continue the generator that drew the initial
        weights to reproduce the article. ``None``: NumPy's global generator (as the
        article's code).
    chunk : int
        Images per compiled call; progress is reported and the stop flag checked
        between chunks.

    Attributes
    ----------
    size : int
        ``N``, the images per iteration.
    """

    def __init__(self, model: Model, X: np.ndarray, Y: np.ndarray, *, alpha: float,
                 dropout: bool, rng: np.random.RandomState | None, chunk: int):
        c = model.config
        if c.biases:
            raise ValueError("the article's training mode has no biases: this model's "
                             "configuration has biases=True; use the backprop mode or a "
                             "configuration without biases")
        for key in ("K", "W1", "W2"):
            a = model.params[key]
            if a.dtype != np.float64:
                raise ValueError(f"the article's training mode needs float64 parameters; "
                                 f"{key} holds {a.dtype} (use model.astype(np.float64))")
            if not a.flags.c_contiguous or not a.flags.writeable:
                model.params[key] = np.ascontiguousarray(a).copy()
        X = np.asarray(X)
        if X.ndim != 3 or X.shape[1:] != (c.image_size, c.image_size):
            raise ValueError(f"images must have shape (N, {c.image_size}, {c.image_size}), "
                             f"not {X.shape}")
        if X.shape[0] == 0:
            raise ValueError("there are no training images")
        X = np.ascontiguousarray(X, dtype=np.float64)
        if not np.all(np.isfinite(X)):
            raise ValueError("the training images hold NaN or infinity")
        if int(chunk) < 1:
            raise ValueError(f"chunk must be at least 1, not {chunk}")
        self.model = model
        self.X = X
        self.T = targets(Y, c.classes, np.float64, count=X.shape[0])
        self.alpha = float(alpha)
        self.dropout = bool(dropout)
        self.rng = np.random.mtrand._rand if rng is None else rng
        self.chunk = int(chunk)
        self.size = X.shape[0]
        self._no_mask = np.zeros((1, c.hidden), dtype=np.int64)

    def epoch(self, iteration: int) -> Iterator[tuple[int, float, float]]:
        """Train one pass over the images, in order.

        Parameters
        ----------
        iteration : int
            The iteration number (the article's order does not depend on it).

        Yields
        ------
        (done, sq_error_sum, sq_error_sum) : (int, float, float)
            Images done so far in this iteration and the sum of their ``sum(d**2)``
            (the article's loss is the squared error, so it is given twice).
        """
        p = self.model.params
        K, W1, W2 = p["K"], p["W1"], p["W2"]
        H = W1.shape[1]
        f = self.model.config.kernel_size
        total = 0.0
        for start in range(0, self.size, self.chunk):
            stop = min(start + self.chunk, self.size)
            if self.dropout:
                masks = np.ascontiguousarray(self.rng.randint(0, 2, (stop - start, H)),
                                             dtype=np.int64)
            else:
                masks = self._no_mask
            total += train_chunk(self.X, self.T, start, stop, K, W1, W2, masks,
                                 self.dropout, self.alpha, f)
            yield stop, total, total
