"""The backprop mode: true gradients and mini-batch SGD for the article's family of networks.

Unlike the article's update (derivatives taken at the activations, diagonal softmax
Jacobian, kernels updated with the already updated weights) this mode differentiates the
forward pass of :func:`engine.net.model.forward_pass` exactly and applies the gradient to every
parameter at once:

- ``"xent"``: softmax with cross-entropy, ``-sum(y * log p)`` per image;
- ``"mse"``: the article's squared error ``sum((p - y)**2)`` per image, through the full
  softmax Jacobian.

The convolution and its kernel gradient are compiled loops (:mod:`engine.net.conv_loops`); the
dense layers are BLAS matrix products. float32 for training, float64 for checks.
"""
from __future__ import annotations

import math
from typing import Iterator

import numpy as np

from ..net.blas import one_thread
from ..net.evaluate import targets
from ..net.model import Config, Model, Pass, forward_pass, kernel_side
from .augment import augment_batch

__all__ = ["LOSSES", "SCHEDULES", "gradients", "loss_and_proba", "BackpropStepper", "learning_rate"]

LOSSES = ("xent", "mse")
SCHEDULES = ("cosine", "step", "constant")

# --------------------------------------------------------------------------------------
# loss and gradients
# --------------------------------------------------------------------------------------
def _check_loss(loss: str) -> None:
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}: use one of {', '.join(LOSSES)}")



def _loops():
    """The compiled loops' module, imported on the first batch (numba takes 0.2 s to import;
    a window that only reads drawings at first does not wait for it)."""
    from ..net import conv_loops
    return conv_loops

def _losses(t: Pass, Y: np.ndarray, loss: str) -> np.ndarray:
    """Per-image losses ``(N,)`` of a forward pass against one-hot ``Y`` ``(N, C)``."""
    if loss == "xent":
        return -(Y * (t.logits - np.log(t.expsum))).sum(axis=1)
    return ((t.proba - Y) ** 2).sum(axis=1)


def _backward(params: dict, X: np.ndarray, t: Pass, Y: np.ndarray, loss: str, f: int,
              mask: np.ndarray | None) -> dict:
    """The gradient of the batch's MEAN loss with respect to every parameter (``X``: the
    batch's images ``(N, S, S)``, ``t`` their forward pass)."""
    W1, W2 = params["W1"], params["W2"]
    dt = params["K"].dtype
    n = Y.shape[0]
    p, l0, l1, l1d = t.proba, t.pooled, t.hidden, t.dropped
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
    dval = (dz1 @ W1.T) * (1 - l0 * l0)                   # (N, P)
    r = X.shape[1] - f + 1
    grads["K"] = _loops().winner_grad(X, dval.reshape(n, r, r), t.winner.reshape(n, r, r), f,
                             params["K"].shape[0])
    if "b1" in params:
        grads["b1"] = dz1.sum(axis=0)
    if "b2" in params:
        grads["b2"] = dz2.sum(axis=0)
    return grads


def _batch(params: dict, X: np.ndarray, Y, config: Config | None):
    """Checked images (in the parameters' dtype), one-hot targets and kernel side."""
    dt = params["K"].dtype
    X = np.asarray(X)
    if X.ndim != 3:
        raise ValueError(f"images must have shape (N, S, S), not {X.shape}")
    f = config.kernel_size if config is not None else kernel_side(params["K"].shape[1])
    Y = targets(Y, params["W2"].shape[1], dt, count=X.shape[0])
    return np.ascontiguousarray(X, dtype=dt), Y, f


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
    X, Y, f = _batch(params, X, Y, config)
    mask = None if dropout_mask is None else np.asarray(dropout_mask, dtype=X.dtype)
    with one_thread():
        t = forward_pass(params, X, f, mask=mask)
        losses = _losses(t, Y, loss)
        grads = _backward(params, X, t, Y, loss, f, mask)
    return float(losses.mean()) if losses.size else 0.0, grads


def loss_and_proba(params: dict, X: np.ndarray, Y: np.ndarray, loss: str = "xent",
                   config: Config | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per-image losses ``(N,)`` and probabilities ``(N, 10)`` (no gradient, no dropout)."""
    _check_loss(loss)
    X, Y, f = _batch(params, X, Y, config)
    with one_thread():
        t = forward_pass(params, X, f)
        return _losses(t, Y, loss), t.proba


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

    Every setting is required: their defaults live in :class:`engine.train.recipes.RunSettings`
    (:func:`engine.train.recipes.make_run` builds the stepper from them).

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
        (:func:`engine.train.augment.augment_batch`).
    seed : int
        Seeds the shuffling, dropout and augmentation generator.
    dtype : numpy dtype
        float32 (fast) or float64.
    epochs_hint : int
        Planned epochs for the schedule.
    weight_decay : float
        L2 penalty ``weight_decay/2 * |w|^2`` on ``K``, ``W1``, ``W2`` (not the biases).

    Attributes
    ----------
    size : int
        Images per iteration (epoch): ``N``.
    """

    def __init__(self, model: Model, X: np.ndarray, Y: np.ndarray, *, alpha: float, batch: int,
                 momentum: float, loss: str, schedule: str, dropout: float, augment: bool,
                 seed: int, dtype, epochs_hint: int, weight_decay: float):
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
        if int(epochs_hint) < 1:
            raise ValueError(f"the planned epochs must be at least 1, not {epochs_hint!r}")
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
        self.Y = targets(Y, c.classes, self.dtype, count=self.X.shape[0])
        self.size = int(self.X.shape[0])
        self.alpha = float(alpha)
        self.batch = int(batch)
        self.momentum = float(momentum)
        self.loss = loss
        self.schedule = schedule
        self.dropout = float(dropout)
        self.weight_decay = float(weight_decay)
        self.augment = bool(augment)
        self.epochs_hint = int(epochs_hint)
        self.rng = np.random.default_rng(seed)
        self.velocity = {k: np.zeros_like(v) for k, v in model.params.items()}
        self.background = float(model.norm.apply(np.zeros(1), np.float64)[0])
        self.lr = self.alpha

    def _batches_per_epoch(self) -> int:
        return max(1, -(-self.size // self.batch))

    def epoch(self, iteration: int) -> Iterator[tuple[int, float, float]]:
        """Train one epoch (shuffled); yield cumulative ``(done, sq_error_sum, loss_sum)`` per batch."""
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
            with one_thread():
                t = forward_pass(p, xb, f, mask=mask)
                losses = _losses(t, yb, self.loss)
                grads = _backward(p, xb, t, yb, self.loss, f, mask)
                for k, g in grads.items():
                    if self.weight_decay and k in ("K", "W1", "W2"):
                        g += self.dtype.type(self.weight_decay) * p[k]
                    v = self.velocity[k]
                    v *= self.momentum
                    v += g
                    p[k] -= lr * v
            done += xb.shape[0]
            sq += float(((t.proba - yb) ** 2).sum())
            lsum += float(losses.sum())
            yield done, sq, lsum
