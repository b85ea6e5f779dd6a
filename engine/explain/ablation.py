"""Break the net: switch off kernels or hidden units, add weight noise, round the weights.

A kernel switched off leaves the max over kernels: at each position the best of the
remaining kernels wins. With every kernel off nothing feeds the pooled layer (it is zero)
and the output is the biases' alone: ``softmax(tanh(b1) @ W2 + b2)``. A hidden unit
switched off outputs zero. Noise and rounding act on every parameter array.

:class:`Broken` reads images through such a damaged net (from the model's public
``forward``/``prepare``/``params``, never changing the model); :func:`kernel_ranking`
ranks the kernels by the accuracy lost without each one, all ``k`` ablations from one
pass of the feature maps (the runner-up kernel takes over where the removed one won).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..net.model import Model
from .attribution import head

__all__ = ["Damage", "Broken", "Ranking", "noisy", "rounded", "kernel_ranking", "accuracy"]


@dataclass(frozen=True)
class Damage:
    """What is broken.

    Attributes
    ----------
    kernels_off : tuple of int
        Kernels left out of the max.
    hidden_off : tuple of int
        Hidden units whose output is zero.
    noise : float
        Gaussian noise added to every weight, its standard deviation this fraction of
        the standard deviation of the weight's array (0: none).
    bits : int or None
        Round every parameter array to this many bits (symmetric levels up to its largest
        magnitude); None: no rounding.
    seed : int
        Seed of the noise.
    """

    kernels_off: tuple = ()
    hidden_off: tuple = ()
    noise: float = 0.0
    bits: int | None = None
    seed: int = 0

    def __post_init__(self):
        if self.noise < 0:
            raise ValueError(f"weight noise must be 0 or more, got {self.noise}")
        if self.bits is not None and not 1 <= int(self.bits) <= 32:
            raise ValueError(f"bits must be 1 to 32 (or None for no rounding), got {self.bits}")

    @property
    def none(self) -> bool:
        return not (self.kernels_off or self.hidden_off or self.noise or self.bits)


def noisy(params: dict, noise: float, seed: int = 0) -> dict:
    """Parameters with Gaussian noise of ``noise`` times each array's standard deviation."""
    if noise <= 0:
        return dict(params)
    rng = np.random.default_rng(seed)
    out = {}
    for k in sorted(params):
        a = params[k]
        sd = float(a.std()) if a.size > 1 else float(abs(a).max(initial=0.0))
        out[k] = (a + rng.normal(0.0, noise * sd, a.shape)).astype(a.dtype)
    return out


def rounded(params: dict, bits: int | None) -> dict:
    """Parameters rounded to ``2**(bits-1) - 1`` levels each side of zero (1 bit: the sign
    times the mean magnitude), per array."""
    if bits is None:
        return dict(params)
    out = {}
    for k, a in params.items():
        top = float(np.max(np.abs(a), initial=0.0))
        if top == 0:
            out[k] = a.copy()
            continue
        if bits == 1:
            out[k] = (np.sign(a) * np.abs(a).mean()).astype(a.dtype)
            continue
        levels = 2 ** (int(bits) - 1) - 1
        step = top / levels
        out[k] = (np.round(a / step) * step).astype(a.dtype)
    return out


class Broken:
    """A model with some damage applied, read without changing the model.

    Parameters
    ----------
    model : Model
    damage : Damage
    """

    def __init__(self, model: Model, damage: Damage = Damage()):
        c = model.config
        for what, idx, n in (("kernel", damage.kernels_off, c.kernels), ("hidden unit", damage.hidden_off, c.hidden)):
            bad = [i for i in idx if not 0 <= int(i) < n]
            if bad:
                raise ValueError(f"no {what} {bad[0]}: the model has {n} (0 to {n - 1})")
        self.damage = damage
        params = rounded(noisy(model.params, damage.noise, damage.seed), damage.bits)
        self.model = model.copy()
        self.model.params = params
        keep = np.ones(c.kernels, bool)
        keep[list(damage.kernels_off)] = False
        self.keep = keep
        self.hidden_mask = np.ones(c.hidden, dtype=model.dtype)
        self.hidden_mask[list(damage.hidden_off)] = 0

    def pooled_pre(self, images01) -> np.ndarray:
        """The pooled layer before ``tanh``, ``(N, P)``: max over the kernels left on (0 with none)."""
        m = self.model
        side = m.config.image_size
        X = m.prepare(np.asarray(images01).reshape(-1, side, side))
        if not self.keep.any():
            return np.zeros((X.shape[0], m.config.positions), dtype=m.dtype)
        maps = m.forward(X, maps=True).maps                     # (N, k, r, r)
        n = maps.shape[0]
        return maps[:, self.keep].reshape(n, int(self.keep.sum()), -1).max(axis=1)

    def predict_proba(self, images01) -> np.ndarray:
        """Class probabilities ``(N, 10)`` of images ``(N, 28, 28)`` in [0, 1]."""
        if self.damage.none:
            return self.model.predict_proba(images01)
        return head(self.model, self.pooled_pre(images01), self.hidden_mask)[1]

    def hidden(self, images01) -> np.ndarray:
        """The hidden layer ``(N, H)`` of images ``(N, 28, 28)`` in [0, 1]."""
        return head(self.model, self.pooled_pre(images01), self.hidden_mask)[0]


def accuracy(predict_proba, images01: np.ndarray, labels: np.ndarray, chunk: int = 500) -> float:
    """Fraction of ``images01`` (N, 28, 28) read as ``labels`` (N,) by ``predict_proba``."""
    labels = np.asarray(labels)
    right = 0
    for i in range(0, len(labels), chunk):
        right += int(np.sum(predict_proba(images01[i:i + chunk]).argmax(axis=1) == labels[i:i + chunk]))
    return right / max(len(labels), 1)


@dataclass
class Ranking:
    """Kernels ranked by the accuracy lost without each.

    Attributes
    ----------
    accuracy : float
        Accuracy with every kernel.
    without : ndarray, (k,)
        Accuracy with kernel ``i`` switched off.
    order : ndarray of int, (k,)
        Kernels from the most needed (largest drop) to the least.
    """

    accuracy: float
    without: np.ndarray
    order: np.ndarray = field(default=None)

    @property
    def drop(self) -> np.ndarray:
        """Accuracy lost without each kernel ``(k,)`` (negative: better without it)."""
        return self.accuracy - self.without


def kernel_ranking(model: Model, images01: np.ndarray, labels: np.ndarray, chunk: int = 100) -> Ranking:
    """Rank the kernels by how much accuracy drops without each one.

    The feature maps are computed once per chunk. Without kernel ``i`` the pooled value is
    the runner-up's wherever ``i`` won and unchanged elsewhere, so the hidden layer's input
    without ``i`` is the intact one plus the change at the positions ``i`` won: each
    position changes for exactly one kernel, and all ``k`` ablations together cost one
    pass over the positions (grouped by winning kernel with ``np.add.reduceat``).

    Parameters
    ----------
    model : Model
    images01 : ndarray, (N, 28, 28) in [0, 1]
    labels : ndarray of int, (N,)

    Returns
    -------
    Ranking
    """
    labels = np.asarray(labels)
    k = model.config.kernels
    p = model.params
    right = np.zeros(k, dtype=np.int64)
    right_all = 0
    for i in range(0, len(labels), chunk):
        X = model.prepare(images01[i:i + chunk])
        y = labels[i:i + chunk]
        maps = model.forward(X, maps=True).maps
        n = maps.shape[0]
        A = maps.reshape(n, k, -1)                                      # (n, k, P)
        P = A.shape[2]
        winner = A.argmax(axis=1)                                       # (n, P)
        first = np.take_along_axis(A, winner[:, None], axis=1)[:, 0]    # (n, P)
        if k == 1:
            second = np.zeros_like(first)                               # nothing left: pooled 0
        else:
            second = np.partition(A, k - 2, axis=1)[:, k - 2]           # (n, P) runner-up
        z1 = np.tanh(first) @ p["W1"]                                   # (n, H)
        if "b1" in p:
            z1 = z1 + p["b1"]
        delta = np.tanh(second) - np.tanh(first)                        # (n, P)
        key = (np.arange(n)[:, None] * k + winner).ravel()              # (n*P,) image and kernel
        order = np.argsort(key, kind="stable")
        key_sorted = key[order]
        starts = np.flatnonzero(np.r_[True, key_sorted[1:] != key_sorted[:-1]])
        rows = delta.ravel()[order][:, None] * p["W1"][order % P]        # (n*P, H)
        change = np.zeros((n * k, z1.shape[1]), dtype=z1.dtype)
        change[key_sorted[starts]] = np.add.reduceat(rows, starts, axis=0)
        z1_both = np.concatenate([z1[:, None, :], z1[:, None, :] + change.reshape(n, k, -1)], axis=1)
        z2 = np.tanh(z1_both) @ p["W2"]                                # (n, 1+k, 10): intact, without i
        if "b2" in p:
            z2 = z2 + p["b2"]
        hit = z2.argmax(axis=2) == y[:, None]
        right_all += int(np.sum(hit[:, 0]))
        right += np.sum(hit[:, 1:], axis=0)
    total = max(len(labels), 1)
    without = right / total
    acc = right_all / total
    return Ranking(acc, without, np.argsort(-(acc - without), kind="stable"))
