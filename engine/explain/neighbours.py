"""Looks like...: the training images nearest to a drawing in the hidden layer, and a
2-D map (PCA) of the hidden layer.

The hidden layer ``l1`` (H values per image) is where the net has turned pixels into
its own description of a digit; images close there are the ones the net finds alike.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..net.model import Model

__all__ = ["hidden_layer", "HiddenIndex", "HiddenPCA"]


def hidden_layer(model: Model, images01: np.ndarray, chunk: int = 1000) -> np.ndarray:
    """The hidden layer of images ``(N, 28, 28)`` in [0, 1]: ``(N, H)`` float64."""
    x = np.asarray(images01)
    if x.ndim == 2:
        x = x[None]
    out = [model.forward(model.prepare(x[i:i + chunk]), maps=False).hidden
           for i in range(0, len(x), chunk)]
    H = model.config.hidden
    return np.concatenate(out).astype(np.float64) if out else np.zeros((0, H))


class HiddenIndex:
    """Nearest neighbours (Euclidean distance) in the hidden layer.

    Parameters
    ----------
    model : Model
    images01 : ndarray, (N, 28, 28) in [0, 1]
        The images to search (the training images).
    labels : ndarray of int, (N,)
    """

    def __init__(self, model: Model, images01: np.ndarray, labels: np.ndarray):
        self.images01 = np.asarray(images01)
        self.labels = np.asarray(labels)
        if len(self.images01) != len(self.labels):
            raise ValueError(f"{len(self.images01)} images but {len(self.labels)} labels")
        self.model = model
        self.hidden = hidden_layer(model, self.images01)               # (N, H)
        self._sq = np.einsum("nh,nh->n", self.hidden, self.hidden)     # (N,)

    def nearest(self, query, k: int = 8, *, hidden: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` images nearest to each query, nearest first.

        Parameters
        ----------
        query : ndarray, (M, 28, 28) or (28, 28) images in [0, 1]; or, with ``hidden=True``,
            hidden layers (M, H) or (H,).
        k : int

        Returns
        -------
        index : ndarray of int, (M, k)
            Rows of the searched images (a single query gives ``(k,)``).
        distance : ndarray, (M, k)
        """
        q = np.asarray(query, dtype=np.float64)
        single = q.ndim == (1 if hidden else 2)
        hq = q.reshape(1, -1) if (hidden and single) else (q if hidden else hidden_layer(self.model, q))
        d2 = np.einsum("mh,mh->m", hq, hq)[:, None] - 2.0 * hq @ self.hidden.T + self._sq[None]
        k = min(int(k), len(self.labels))
        part = np.argpartition(d2, k - 1, axis=1)[:, :k]
        order = np.take_along_axis(d2, part, axis=1).argsort(axis=1, kind="stable")
        idx = np.take_along_axis(part, order, axis=1)
        dist = np.sqrt(np.maximum(np.take_along_axis(d2, idx, axis=1), 0.0))
        return (idx[0], dist[0]) if single else (idx, dist)


@dataclass
class HiddenPCA:
    """A 2-D principal-component map of the hidden layer.

    Attributes
    ----------
    mean : ndarray, (H,)
    axes : ndarray, (2, H)
        The two leading principal directions (unit rows).
    points : ndarray, (N, 2)
        The fitted images' coordinates.
    labels : ndarray of int, (N,)
    explained : ndarray, (2,)
        Fraction of the variance along each axis.
    """

    mean: np.ndarray
    axes: np.ndarray
    points: np.ndarray
    labels: np.ndarray
    explained: np.ndarray

    @classmethod
    def fit(cls, model: Model, images01: np.ndarray, labels: np.ndarray) -> "HiddenPCA":
        """Fit on images ``(N, 28, 28)`` in [0, 1] (the test images) and their labels ``(N,)``."""
        h = hidden_layer(model, images01)
        mean = h.mean(axis=0)
        _, s, vt = np.linalg.svd(h - mean, full_matrices=False)
        axes = vt[:2]
        # a fixed orientation: each axis points towards its largest-magnitude component
        signs = np.sign(axes[np.arange(2), np.abs(axes).argmax(axis=1)])
        axes = axes * signs[:, None]
        var = s ** 2
        return cls(mean, axes, (h - mean) @ axes.T, np.asarray(labels), var[:2] / max(var.sum(), 1e-300))

    def project(self, hidden: np.ndarray) -> np.ndarray:
        """Coordinates ``(..., 2)`` of hidden layers ``(..., H)``."""
        return (np.asarray(hidden, dtype=np.float64) - self.mean) @ self.axes.T
