"""The article's training loop, one image at a time, written to be read (the test oracle).

This follows ``docs/article-algorithm.md`` step by step in plain NumPy, with the
article's quirks kept on purpose (derivatives at the activations, softmax and tanh
applied twice, only the diagonal of the softmax Jacobian, ``W2`` and ``W1`` updated
before the kernel gradient, which uses the updated weights). It is slow, and meant only
to check :mod:`engine.train.article` against.

Shapes: ``k`` kernels of side ``f``, ``P`` window positions, ``H`` hidden neurons,
``C`` classes; ``K`` (k, f*f), ``W1`` (P, H), ``W2`` (H, C).
"""
from __future__ import annotations

import numpy as np

from engine.net.model import kernel_side

__all__ = ["window_matrix", "oracle_image", "oracle_epoch"]


def window_matrix(image: np.ndarray, f: int) -> np.ndarray:
    """The article's ``F``: column ``p = r*row + col`` is the ``f x f`` window at (row, col).

    Parameters
    ----------
    image : ndarray, (S, S)
    f : int

    Returns
    -------
    ndarray, (f*f, P), P = (S-f+1)**2
    """
    side = image.shape[0] - f + 1
    F = np.empty((f * f, side * side))
    for row in range(side):
        for col in range(side):
            F[:, side * row + col] = image[row:row + f, col:col + f].ravel()
    return F


def _softmax_as_the_article(z: np.ndarray) -> np.ndarray:
    """``exp(z) / sum(exp(z))`` with no max-subtraction, as the article computes it."""
    e = np.exp(z)
    return e / e.sum()


def oracle_image(K: np.ndarray, W1: np.ndarray, W2: np.ndarray, image: np.ndarray,
                 y: np.ndarray, alpha: float, mask: np.ndarray | None = None) -> float:
    """One step of the article's per-image SGD; updates ``K``, ``W1``, ``W2`` in place.

    Parameters
    ----------
    K : ndarray, (k, f*f)
    W1 : ndarray, (P, H)
    W2 : ndarray, (H, C)
    image : ndarray, (S, S)
        A normalised image.
    y : ndarray, (C,)
        The one-hot target.
    alpha : float
        Learning rate.
    mask : ndarray of int, (H,) or None
        The dropout mask (0 or 1 per hidden neuron), or None without dropout.

    Returns
    -------
    float
        ``sum(d**2)`` with ``d = l2 - y`` taken before the update.
    """
    f = kernel_side(K.shape[1])
    F = window_matrix(image, f)                      # (f*f, P)

    # forward: convolution, "pooling" over kernels, tanh, hidden layer, softmax
    A = K @ F                                        # (k, P)
    winner = np.argmax(A, axis=0)                    # (P,), first maximum on ties
    l0 = np.tanh(np.max(A, axis=0))                  # (P,)
    l1 = np.tanh(l0 @ W1)                            # (H,)
    if mask is not None:
        l1 = l1 * 2.0 * mask
    l2 = _softmax_as_the_article(l1 @ W2)            # (C,)

    # derivatives evaluated at the activations (the article's quirk)
    d = l2 - y                                       # (C,)
    sm = _softmax_as_the_article(l2)                 # softmax applied a second time
    s2 = sm * (1.0 - sm)
    s1 = 1.0 - np.tanh(l1) ** 2                      # tanh applied a second time
    if mask is not None:
        s1 = s1 * mask
    s0 = 1.0 - np.tanh(l0) ** 2

    # dense layers: gradients with the old weights, W2 then W1 updated
    g2 = d * s2                                      # (C,)
    dW2 = np.outer(l1, g2)                           # (H, C)
    dW1 = np.outer(l0, (W2 @ g2) * s1)               # (P, H)
    W2 -= alpha * dW2
    W1 -= alpha * dW1

    # kernel gradient with the UPDATED W1 and W2
    g1 = (W2 @ g2) * s1                              # (H,)
    g0 = (W1 @ g1) * s0                              # (P,)
    dK = np.zeros_like(K)
    for k in range(K.shape[0]):
        chosen = winner == k
        dK[k] = F[:, chosen] @ g0[chosen]
    K -= alpha * dK
    return float(np.sum(d ** 2))


def oracle_epoch(params: dict, X: np.ndarray, Y: np.ndarray, *, alpha: float = 0.01,
                 dropout: bool = False, rng: np.random.RandomState | None = None) -> float:
    """The article's loop over ``X`` in order; updates ``params`` in place.

    Parameters
    ----------
    params : dict
        ``K`` (k, f*f), ``W1`` (P, H), ``W2`` (H, C), float64.
    X : ndarray, (N, S, S)
    Y : ndarray, (N,) int labels or (N, C) one-hot rows
    alpha : float
    dropout : bool
        Draw ``rng.randint(0, 2, (1, H))`` per image and use it as the article does.
    rng : numpy.random.RandomState or None
        The generator for the dropout masks (None: NumPy's global one, as the article).

    Returns
    -------
    float
        The sum over images of ``sum(d**2)``.
    """
    K, W1, W2 = params["K"], params["W1"], params["W2"]
    C = W2.shape[1]
    Y = np.asarray(Y)
    if Y.ndim == 1:
        Y = np.eye(C)[Y]
    rng = np.random.mtrand._rand if rng is None else rng
    total = 0.0
    for n in range(X.shape[0]):
        mask = rng.randint(0, 2, (1, W1.shape[1]))[0] if dropout else None
        total += oracle_image(K, W1, W2, np.asarray(X[n], dtype=np.float64), Y[n], alpha, mask)
    return total
