"""The cost of the article's training loop as its code performs it, for the speed benchmark.

The bar for the fast article mode is the article's own loop, not our readable oracle (which
vectorises the kernel gradient). This module does the same arithmetic with the same
operations the article's code performs for each image, so that its time is the article's
time on this machine:

- the windows are gathered by a Python double loop over the 21x21 positions into a
  ``(P, f, f)`` array, then reshaped and transposed to the ``(f*f, P)`` matrix ``F``;
- the responses are formed one kernel at a time, ``(1, f*f) @ F``;
- the derivatives are turned into dense diagonal matrices (``np.diag``: 10x10, 100x100 and
  441x441), and the gradients are chains of matrix products through them;
- the kernel gradient loops over the kernels, masking ``F`` by the winner and pushing the
  masked windows through the five products ``diag0 @ F_k^T``, ``W1^T @ .``, ``diag1 @ .``,
  ``W2^T @ .``, ``diag2 @ .`` before the product with the error vector.

It is written for timing, not for reading (``tests/engine/oracle_article.py`` is the
readable reference), and the speed benchmark checks that it agrees with the oracle.
"""
from __future__ import annotations

import numpy as np

from engine.net.model import kernel_side


def _gather_windows(image: np.ndarray, f: int) -> np.ndarray:
    """``(f*f, P)``: column ``p = i*r + j`` is the window at row ``i``, column ``j``."""
    r = image.shape[0] - f + 1
    frames = np.zeros((r * r, f, f))
    for i in range(r):
        for j in range(r):
            frames[r * i + j, :, :] = image[i:i + f, j:j + f]
    return frames.reshape(r * r, f * f).T


def _soft(z: np.ndarray) -> np.ndarray:
    return np.exp(z) / np.exp(z).sum()


def train_as_written(params: dict, X: np.ndarray, Y: np.ndarray, *, alpha: float = 0.01) -> float:
    """One pass over ``X`` (N, 28, 28) with one-hot ``Y`` (N, 10), no dropout, in place.

    Returns the sum over the images of ``sum(d**2)``.
    """
    K, W1, W2 = params["K"], params["W1"], params["W2"]
    nk, ff = K.shape
    f = kernel_side(ff)
    total = 0.0
    grad_k = np.zeros_like(K)
    for n in range(X.shape[0]):
        F = _gather_windows(X[n], f)
        pre = np.zeros((nk, F.shape[1]))
        for k in range(nk):
            pre[k, :] = np.matmul(K[k].reshape(1, ff), F)
        which = np.argmax(pre, axis=0)
        l0 = np.tanh(np.max(pre, axis=0).reshape(1, -1))
        l1 = np.tanh(np.matmul(l0, W1))
        l2 = _soft(np.matmul(l1, W2))
        d = l2 - Y[n]
        s2 = _soft(l2) * (1.0 - _soft(l2))
        diag2 = np.diag(s2.ravel())
        g12 = np.outer(l1, np.matmul(d, diag2))
        diag1 = np.diag((1.0 - np.tanh(l1) ** 2).ravel())
        omega = np.matmul(diag2, np.matmul(W2.T, diag1))
        g01 = np.outer(l0, np.matmul(d, omega))
        W2 -= alpha * g12
        W1 -= alpha * g01
        for k in range(nk):
            masked = F * (which == k).astype(np.int64)
            diag0 = np.diag((1.0 - np.tanh(l0) ** 2).ravel())
            t = np.matmul(diag0, masked.T)
            t = np.matmul(W1.T, t)
            t = np.matmul(diag1, t)
            t = np.matmul(W2.T, t)
            t = np.matmul(diag2, t)
            grad_k[k] = np.matmul(d, t)
        K -= alpha * grad_k
        total += float(np.sum(d ** 2))
    return total
