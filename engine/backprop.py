"""The backprop mode: true gradients and mini-batch SGD for the article's family of networks.

The network (see :mod:`engine.model`): ``k`` kernels ``f x f`` slide over the image
(stride 1, no padding, ``P = r*r`` positions, ``r = 28 - f + 1``); at each position the
maximum over the kernels (first kernel on ties); ``tanh``; a dense layer with ``tanh``
(optional bias ``b1``); a dense layer (optional bias ``b2``); softmax.

Unlike the article's update (derivatives taken at the activations, diagonal softmax
Jacobian, kernels updated with the already updated weights) this mode computes the exact
gradient of a loss and applies it to every parameter at once:

- ``"xent"``: softmax with cross-entropy, ``-sum(y * log p)`` per image (the default);
- ``"mse"``: the article's squared error ``sum((p - y)**2)`` per image, through the full
  softmax Jacobian.

Speed: the convolution, the maximum over kernels and the kernel gradient are fused
loops compiled with numba (parallel over the images of a batch), so no window matrix is
built; the dense layers are BLAS matrix products. float32 by default; float64 for checks.
"""
from __future__ import annotations

import contextlib
import math
import os
from typing import Iterator

import numpy as np

# The compiled loops run on an OpenMP thread team. Spinning idle OpenMP threads make a
# batch several times slower when the cores are shared (the GUI thread, BLAS, other
# programs); sleeping ones cost little. Read once, when numba starts its thread pool.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from numba import njit, prange  # noqa: E402

from .model import Config, Model

__all__ = ["DEFAULTS", "LOSSES", "SCHEDULES", "gradients", "loss_and_proba", "conv_max",
           "BackpropStepper", "train_backprop", "learning_rate"]

LOSSES = ("xent", "mse")
SCHEDULES = ("cosine", "step", "constant")

#: Defaults of the backprop mode (the CLI and the GUI use them). With these, the article's
#: architecture (9 kernels 8x8, hidden 100) trained on the 60,000 MNIST training images
#: (standard normalisation) reaches about 98% arg-max accuracy on the test set.
DEFAULTS: dict = {
    "epochs": 12,
    "alpha": 0.05,
    "batch": 64,
    "momentum": 0.9,
    "loss": "xent",
    "schedule": "cosine",
    "dropout": 0.0,
    "augment": False,
    "seed": 0,
    "normalisation": "standard",
}


_CONTROLLER = None


def _blas_single_thread():
    """A context in which BLAS runs on one thread.

    The compiled loops already use every core; BLAS threads spinning at the same time
    slow a batch down several times, and the dense products of a batch are small.
    Without threadpoolctl this is a no-op.
    """
    global _CONTROLLER
    try:
        if _CONTROLLER is None:
            from threadpoolctl import ThreadpoolController
            _CONTROLLER = ThreadpoolController()
        return _CONTROLLER.limit(limits=1, user_api="blas")
    except Exception:  # threadpoolctl missing or unable to find BLAS
        return contextlib.nullcontext()


# --------------------------------------------------------------------------------------
# compiled kernels
# --------------------------------------------------------------------------------------
# The batch is laid out "image last": ``Xf[row, col*N + n] = X[n, row, col]``, shape
# (S, S*N). For one output row ``i`` the responses of a kernel at every column and image
# are then ``sum over (a, b) of K[a, b] * Xf[i + a, b*N : b*N + r*N]``: long contiguous
# vector updates that the compiler vectorises. Rows are shared among threads (prange);
# the per-row work sits in separate functions so that it is vectorised like serial code.
@njit(fastmath=True, nogil=True, cache=True)
def _conv_row(Xf, K, f, N, i, val, win, acc, best):  # pragma: no cover - compiled
    nk = K.shape[0]
    L = acc.shape[0]
    for kk in range(nk):
        for q in range(L):
            acc[q] = 0
        for a in range(f):
            base = a * f
            b = 0
            while b + 4 <= f:             # four kernel taps per pass: fewer stores of acc
                c0 = K[kk, base + b]
                c1 = K[kk, base + b + 1]
                c2 = K[kk, base + b + 2]
                c3 = K[kk, base + b + 3]
                r0 = Xf[i + a, b * N:b * N + L]
                r1 = Xf[i + a, (b + 1) * N:(b + 1) * N + L]
                r2 = Xf[i + a, (b + 2) * N:(b + 2) * N + L]
                r3 = Xf[i + a, (b + 3) * N:(b + 3) * N + L]
                for q in range(L):
                    acc[q] += c0 * r0[q] + c1 * r1[q] + c2 * r2[q] + c3 * r3[q]
                b += 4
            while b < f:
                c0 = K[kk, base + b]
                r0 = Xf[i + a, b * N:b * N + L]
                for q in range(L):
                    acc[q] += c0 * r0[q]
                b += 1
        if kk == 0:
            for q in range(L):
                best[q] = acc[q]
                win[i, q] = 0
        else:
            for q in range(L):
                if acc[q] > best[q]:      # strictly greater: the first kernel wins ties
                    best[q] = acc[q]
                    win[i, q] = kk
    for q in range(L):
        val[i, q] = best[q]


@njit(parallel=True, fastmath=True, cache=True, nogil=True)
def _conv_max_kernel(Xf, K, f, N, val, win):  # pragma: no cover - compiled
    r = val.shape[0]
    L = val.shape[1]
    for i in prange(r):
        acc = np.empty(L, dtype=Xf.dtype)
        best = np.empty(L, dtype=Xf.dtype)
        _conv_row(Xf, K, f, N, i, val, win, acc, best)


@njit(fastmath=True, nogil=True, cache=True)
def _grad_row(Xf, G, win, f, N, i, out, gk):  # pragma: no cover - compiled
    nk = out.shape[1]
    L = gk.shape[0]
    for kk in range(nk):
        nonzero = False
        for q in range(L):
            if win[i, q] == kk:
                gk[q] = G[i, q]
                nonzero = True
            else:
                gk[q] = 0
        if not nonzero:
            continue
        for a in range(f):
            base = a * f
            b = 0
            while b + 4 <= f:             # four taps per pass share the loads of gk
                r0 = Xf[i + a, b * N:b * N + L]
                r1 = Xf[i + a, (b + 1) * N:(b + 1) * N + L]
                r2 = Xf[i + a, (b + 2) * N:(b + 2) * N + L]
                r3 = Xf[i + a, (b + 3) * N:(b + 3) * N + L]
                s0 = gk[0] * r0[0]
                s1 = gk[0] * r1[0]
                s2 = gk[0] * r2[0]
                s3 = gk[0] * r3[0]
                for q in range(1, L):
                    g = gk[q]
                    s0 += g * r0[q]
                    s1 += g * r1[q]
                    s2 += g * r2[q]
                    s3 += g * r3[q]
                out[i, kk, base + b] = s0
                out[i, kk, base + b + 1] = s1
                out[i, kk, base + b + 2] = s2
                out[i, kk, base + b + 3] = s3
                b += 4
            while b < f:
                r0 = Xf[i + a, b * N:b * N + L]
                s0 = gk[0] * r0[0]
                for q in range(1, L):
                    s0 += gk[q] * r0[q]
                out[i, kk, base + b] = s0
                b += 1


@njit(parallel=True, fastmath=True, cache=True, nogil=True)
def _conv_grad_kernel(Xf, G, win, f, N, out):  # pragma: no cover - compiled
    r = G.shape[0]
    L = G.shape[1]
    for i in prange(r):
        gk = np.empty(L, dtype=Xf.dtype)
        _grad_row(Xf, G, win, f, N, i, out, gk)


def _image_last(X: np.ndarray, dtype) -> np.ndarray:
    """``(N, S, S)`` images as ``(S, S*N)``: ``out[row, col*N + n] = X[n, row, col]``."""
    n, s, _ = X.shape
    return np.ascontiguousarray(np.asarray(X, dtype=dtype).transpose(1, 2, 0)).reshape(s, s * n)


def _conv_max_t(Xf: np.ndarray, K: np.ndarray, f: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Fused convolution and maximum over kernels on image-last data.

    Returns ``val`` and ``win`` of shape ``(r, r*N)``: ``[i, j*N + n]`` is position
    ``(i, j)`` of image ``n``.
    """
    r = Xf.shape[0] - f + 1
    val = np.empty((r, r * n), dtype=K.dtype)
    win = np.empty((r, r * n), dtype=np.int32)
    if n:
        _conv_max_kernel(Xf, np.ascontiguousarray(K), f, n, val, win)
    return val, win


def _conv_grad_t(Xf: np.ndarray, G: np.ndarray, win: np.ndarray, f: int, n: int, k: int) -> np.ndarray:
    """Kernel gradient ``(k, f*f)`` from image-last data, ``G`` and ``win`` ``(r, r*N)``."""
    r = G.shape[0]
    out = np.zeros((r, k, f * f), dtype=Xf.dtype)
    if n:
        _conv_grad_kernel(Xf, np.ascontiguousarray(G, dtype=Xf.dtype), win, f, n, out)
    return out.sum(axis=0)


def conv_max(X: np.ndarray, K: np.ndarray, f: int) -> tuple[np.ndarray, np.ndarray]:
    """Convolution followed by the maximum over kernels, fused (no window matrix).

    Parameters
    ----------
    X : ndarray, (N, S, S)
        Normalised images (computed in ``K``'s dtype).
    K : ndarray, (k, f*f)
        Kernels, each flattened row-major.
    f : int
        Kernel side.

    Returns
    -------
    val : ndarray, (N, P)
        ``max_k`` of the kernel responses at each position ``p = i*r + j`` (before tanh).
    win : ndarray of int32, (N, P)
        The winning kernel (the first one on ties).
    """
    X = np.asarray(X)
    n = X.shape[0]
    val, win = _conv_max_t(_image_last(X, K.dtype), K, f, n)
    r = val.shape[0]
    return (np.ascontiguousarray(val.reshape(r * r, n).T),
            np.ascontiguousarray(win.reshape(r * r, n).T))


# --------------------------------------------------------------------------------------
# forward, loss and gradients
# --------------------------------------------------------------------------------------
def _as_onehot(Y: np.ndarray, classes: int, dtype) -> np.ndarray:
    Y = np.asarray(Y)
    if Y.ndim == 1:
        if not np.issubdtype(Y.dtype, np.integer):
            raise ValueError(f"labels must be whole numbers, not {Y.dtype}")
        if Y.size and (Y.min() < 0 or Y.max() >= classes):
            raise ValueError(f"labels must lie in 0..{classes - 1}")
        out = np.zeros((Y.shape[0], classes), dtype=dtype)
        out[np.arange(Y.shape[0]), Y] = 1
        return out
    if Y.ndim != 2 or Y.shape[1] != classes:
        raise ValueError(f"targets must be labels (N,) or one-hot rows (N, {classes}), not {Y.shape}")
    return Y.astype(dtype, copy=False)


def _kernel_size(params: dict, config: Config | None) -> int:
    if config is not None:
        return config.kernel_size
    f = int(round(math.sqrt(params["K"].shape[1])))
    if f * f != params["K"].shape[1]:
        raise ValueError(f"K has shape {params['K'].shape}: its rows are not square kernels")
    return f


def _check_loss(loss: str) -> None:
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}: use one of {', '.join(LOSSES)}")


def _forward_backward(params: dict, X: np.ndarray, Y: np.ndarray, loss: str, f: int,
                      mask: np.ndarray | None, want_grads: bool = True):
    """Forward and backward pass for one batch.

    Returns ``(losses (N,), proba (N, 10), grads of the MEAN loss or None)``.
    """
    K, W1, W2 = params["K"], params["W1"], params["W2"]
    dt = K.dtype
    n = X.shape[0]
    Xf = _image_last(X, dt)
    val, win = _conv_max_t(Xf, K, f, n)          # (r, r*N): position-major, image last
    P = val.size // max(n, 1)
    val = val.reshape(P, n).T                    # (N, P) view
    l0 = np.tanh(val)
    z1 = l0 @ W1
    if "b1" in params:
        z1 += params["b1"]
    l1 = np.tanh(z1)                             # (N, H)
    l1d = l1 * mask if mask is not None else l1
    z2 = l1d @ W2
    if "b2" in params:
        z2 += params["b2"]
    z2 -= z2.max(axis=1, keepdims=True)
    e = np.exp(z2)
    s = e.sum(axis=1, keepdims=True)
    p = e / s                                    # (N, 10)
    if loss == "xent":
        losses = -(Y * (z2 - np.log(s))).sum(axis=1)
    else:
        losses = ((p - Y) ** 2).sum(axis=1)
    if not want_grads:
        return losses, p, None
    scale = dt.type(1.0 / max(n, 1))
    if loss == "xent":
        dz2 = (p - Y) * scale
    else:
        g = 2 * scale * (p - Y)
        dz2 = p * (g - (g * p).sum(axis=1, keepdims=True))
    grads = {"W2": l1d.T @ dz2}
    dl1 = dz2 @ W2.T
    if mask is not None:
        dl1 *= mask
    dz1 = dl1 * (1 - l1 * l1)
    grads["W1"] = l0.T @ dz1
    dval = (dz1 @ W1.T) * (1 - l0 * l0)          # (N, P)
    grads["K"] = _conv_grad_t(Xf, dval.T.reshape(win.shape), win, f, n, K.shape[0])
    if "b1" in params:
        grads["b1"] = dz1.sum(axis=0)
    if "b2" in params:
        grads["b2"] = dz2.sum(axis=0)
    return losses, p, grads


def gradients(params: dict, X: np.ndarray, Y: np.ndarray, loss: str = "xent",
              config: Config | None = None, dropout_mask: np.ndarray | None = None
              ) -> tuple[float, dict]:
    """The mean loss over a batch and its exact gradient with respect to every parameter.

    Parameters
    ----------
    params : dict of str to ndarray
        ``K`` (k, f*f), ``W1`` (P, H), ``W2`` (H, 10), optional ``b1`` (H,), ``b2`` (10,);
        all of one floating dtype, which the computation uses.
    X : ndarray, (N, 28, 28)
        Normalised images.
    Y : ndarray, (N, 10) one-hot rows, or (N,) integer labels
    loss : {"xent", "mse"}
        Cross-entropy ``-sum(y log p)`` or squared error ``sum((p - y)**2)`` per image.
    config : Config or None
        Architecture (only the kernel size is used; inferred from ``K`` when None).
    dropout_mask : ndarray, (N, H), or None
        Multiplies the hidden layer ``l1`` (inverted dropout: zeros and ``1/(1-rate)``).

    Returns
    -------
    loss : float
        Mean over the ``N`` images of the per-image loss.
    grads : dict of str to ndarray
        Same keys, shapes and dtype as ``params``: the gradient of the mean loss.
    """
    _check_loss(loss)
    dt = params["K"].dtype
    X = np.asarray(X)
    if X.ndim != 3:
        raise ValueError(f"images must have shape (N, S, S), not {X.shape}")
    f = _kernel_size(params, config)
    Y = _as_onehot(Y, params["W2"].shape[1], dt)
    if Y.shape[0] != X.shape[0]:
        raise ValueError(f"{X.shape[0]} images but {Y.shape[0]} targets")
    mask = None if dropout_mask is None else np.asarray(dropout_mask, dtype=dt)
    with _blas_single_thread():
        losses, _, grads = _forward_backward(params, np.ascontiguousarray(X, dtype=dt), Y, loss, f, mask)
    return float(losses.mean()) if losses.size else 0.0, grads


def loss_and_proba(params: dict, X: np.ndarray, Y: np.ndarray, loss: str = "xent",
                   config: Config | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per-image losses ``(N,)`` and probabilities ``(N, 10)`` (no gradient, no dropout)."""
    _check_loss(loss)
    dt = params["K"].dtype
    f = _kernel_size(params, config)
    Y = _as_onehot(Y, params["W2"].shape[1], dt)
    with _blas_single_thread():
        losses, p, _ = _forward_backward(params, np.ascontiguousarray(X, dtype=dt), Y, loss, f, None, False)
    return losses, p


# --------------------------------------------------------------------------------------
# training
# --------------------------------------------------------------------------------------
def learning_rate(alpha: float, schedule: str, progress: float) -> float:
    """Learning rate after a fraction ``progress`` (0 to 1, clipped) of the planned training.

    ``"cosine"``: ``alpha * (0.5 + 0.5 cos(pi * progress))`` with a floor of ``alpha/100``;
    ``"step"``: ``alpha``, divided by 10 at 50% and again at 75%; ``"constant"``: ``alpha``.
    """
    t = min(max(progress, 0.0), 1.0)
    if schedule == "cosine":
        return alpha * (0.01 + 0.99 * 0.5 * (1.0 + math.cos(math.pi * t)))
    if schedule == "step":
        return alpha * (1.0 if t < 0.5 else 0.1 if t < 0.75 else 0.01)
    if schedule == "constant":
        return alpha
    raise ValueError(f"unknown schedule {schedule!r}: use one of {', '.join(SCHEDULES)}")


class BackpropStepper:
    """Mini-batch SGD with momentum on a model's parameters (the Stepper protocol).

    Parameters
    ----------
    model : Model
        Trained in place; its parameters are converted to ``dtype`` if they differ.
    X : ndarray, (N, 28, 28)
        Normalised training images (as ``model.norm`` maps raw pixels).
    Y : ndarray, (N,) integer labels or (N, 10) one-hot rows
    alpha : float
        Peak learning rate (gradients are of the batch's mean loss).
    batch : int
        Images per update (the last batch of an epoch may be smaller).
    momentum : float
        Heavy-ball momentum ``v = momentum*v + g; param -= lr*v``.
    loss : {"xent", "mse"}
    schedule : {"cosine", "step", "constant"}
        Learning-rate decay over ``epochs_hint`` epochs, per batch (see :func:`learning_rate`);
        after the planned epochs the last rate is kept.
    dropout : float
        Inverted-dropout rate on the hidden layer (0 = off).
    augment : bool
        Random shifts, rotations, scaling, shear and stroke thickness on every batch
        (:func:`engine.augment.augment_batch`).
    seed : int
        Seeds the shuffling, dropout and augmentation generator.
    dtype : numpy dtype
        float32 (fast) or float64.
    epochs_hint : int or None
        Planned epochs for the schedule (``DEFAULTS["epochs"]`` when None).
    weight_decay : float
        L2 penalty ``weight_decay/2 * |w|^2`` on ``K``, ``W1``, ``W2`` (not the biases).

    Attributes
    ----------
    size : int
        Images per iteration (epoch): ``N``.
    """

    def __init__(self, model: Model, X: np.ndarray, Y: np.ndarray, *, alpha: float = DEFAULTS["alpha"],
                 batch: int = DEFAULTS["batch"], momentum: float = DEFAULTS["momentum"],
                 loss: str = DEFAULTS["loss"], schedule: str = DEFAULTS["schedule"],
                 dropout: float = DEFAULTS["dropout"], augment: bool = DEFAULTS["augment"],
                 seed: int = DEFAULTS["seed"], dtype=np.float32, epochs_hint: int | None = None,
                 weight_decay: float = 0.0):
        _check_loss(loss)
        learning_rate(1.0, schedule, 0.0)  # validates the schedule's name
        if not (alpha > 0 and math.isfinite(alpha)):
            raise ValueError(f"learning rate must be a positive number, not {alpha!r}")
        if int(batch) < 1:
            raise ValueError(f"batch must be at least 1, not {batch!r}")
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must lie in [0, 1), not {momentum!r}")
        if not (0 <= weight_decay and math.isfinite(weight_decay)):
            raise ValueError(f"weight decay must be a number at or above 0, not {weight_decay!r}")
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must lie in [0, 1), not {dropout!r}")
        X = np.asarray(X)
        c = model.config
        if X.ndim != 3 or X.shape[1:] != (c.image_size, c.image_size):
            raise ValueError(f"training images must have shape (N, {c.image_size}, {c.image_size}), "
                             f"not {X.shape}")
        self.model = model
        self.dtype = np.dtype(dtype)
        for k, v in list(model.params.items()):
            if v.dtype != self.dtype or not v.flags.c_contiguous:
                model.params[k] = np.ascontiguousarray(v, dtype=self.dtype)
        self.X = np.ascontiguousarray(X, dtype=self.dtype)
        self.Y = _as_onehot(Y, c.classes, self.dtype)
        if self.Y.shape[0] != self.X.shape[0]:
            raise ValueError(f"{self.X.shape[0]} training images but {self.Y.shape[0]} labels")
        self.size = int(self.X.shape[0])
        self.alpha = float(alpha)
        self.batch = int(batch)
        self.momentum = float(momentum)
        self.loss = loss
        self.schedule = schedule
        self.dropout = float(dropout)
        self.weight_decay = float(weight_decay)
        self.augment = bool(augment)
        self.epochs_hint = int(epochs_hint) if epochs_hint else int(DEFAULTS["epochs"])
        self.rng = np.random.default_rng(seed)
        self.velocity = {k: np.zeros_like(v) for k, v in model.params.items()}
        self.background = float(model.norm.apply(np.zeros(1), np.float64)[0])
        self.lr = self.alpha

    def _batches_per_epoch(self) -> int:
        return max(1, -(-self.size // self.batch))

    def epoch(self, iteration: int) -> Iterator[tuple[int, float, float]]:
        """Train one epoch (shuffled); yield cumulative ``(done, sq_error_sum, loss_sum)`` per batch."""
        from .augment import augment_batch

        p = self.model.params
        f = self.model.config.kernel_size
        order = self.rng.permutation(self.size)
        nb = self._batches_per_epoch()
        total = nb * self.epochs_hint
        done = 0
        sq = 0.0
        lsum = 0.0
        keep = 1.0 - self.dropout
        for b in range(nb):
            idx = np.sort(order[b * self.batch:(b + 1) * self.batch])
            xb = self.X[idx]
            yb = self.Y[idx]
            if self.augment:
                xb = augment_batch(xb, self.rng, background=self.background)
            mask = None
            if self.dropout > 0:
                mask = (self.rng.random((xb.shape[0], self.model.config.hidden)) < keep)
                mask = mask.astype(self.dtype) / self.dtype.type(keep)
            lr = self.dtype.type(learning_rate(self.alpha, self.schedule, (iteration * nb + b) / total))
            self.lr = float(lr)
            with _blas_single_thread():
                losses, proba, grads = _forward_backward(p, xb, yb, self.loss, f, mask)
                for k, g in grads.items():
                    if self.weight_decay and k in ("K", "W1", "W2"):
                        g += self.dtype.type(self.weight_decay) * p[k]
                    v = self.velocity[k]
                    v *= self.momentum
                    v += g
                    p[k] -= lr * v
            done += xb.shape[0]
            sq += float(((proba - yb) ** 2).sum())
            lsum += float(losses.sum())
            yield done, sq, lsum


def train_backprop(model: Model, X: np.ndarray, Y: np.ndarray, *, max_iter: int | None = None,
                   tol: float | None = None, stop=None, test=None, **stepper_kw):
    """Train ``model`` in the backprop mode; the events of :func:`engine.training.train`.

    Parameters
    ----------
    model : Model
    X : ndarray, (N, 28, 28)
        Normalised training images.
    Y : ndarray, (N,) labels or (N, 10) one-hot rows
    max_iter : int or None
        Epochs (``DEFAULTS["epochs"]`` when None); also the schedule's plan unless
        ``epochs_hint`` is given.
    tol, stop, test
        As for :func:`engine.training.train` (``tol=None``: run every epoch).
    **stepper_kw
        Keyword arguments of :class:`BackpropStepper`.

    Returns
    -------
    generator of events
    """
    from .training import train

    max_iter = int(max_iter or DEFAULTS["epochs"])
    stepper_kw.setdefault("epochs_hint", max_iter)
    stepper = BackpropStepper(model, X, Y, **stepper_kw)
    return train(model, stepper, max_iter=max_iter, tol=tol, stop=stop, test=test)
