"""Teach a trained model one person's handwriting from a few corrected drawings.

:func:`finetune` trains a copy of the model for a few hundred small steps of SGD with
momentum on batches that mix the person's drawings (randomly distorted a little, so that
twenty drawings stand for many) with replayed MNIST digits, so that it does not forget
the rest. A pull towards the starting weights (L2 to them) keeps the change small.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..net.model import Model
from ..train.augment import augment_batch
from ..train.backprop import gradients, learning_rate

__all__ = ["FINETUNE_DEFAULTS", "finetune", "default_replay"]

#: The fine-tuning recipe (one home for its numbers).
FINETUNE_DEFAULTS: dict = {
    "steps": 150,          # SGD updates
    "own": 32,             # the person's drawings a batch (drawn with replacement, distorted)
    "replayed": 64,        # replayed MNIST digits a batch
    "alpha": 0.01,         # peak learning rate (cosine decay)
    "momentum": 0.9,
    "anchor": 0.01,        # L2 pull towards the starting weights
}
#: Milder distortions than training's: the person's style must survive them.
_OWN_AUGMENT = {"shift": 1.5, "rotate": 8.0, "scale": (0.92, 1.08), "aspect": 0.06, "shear": 0.12,
                "thickness": (-0.3, 0.5)}


def default_replay() -> tuple[np.ndarray, np.ndarray]:
    """The bundled sample's 4,000 training digits: images ``(4000, 28, 28)`` in [0, 1] and labels."""
    from ..files.data import load_sample
    ds = load_sample()
    return ds.train_images.astype(np.float32) / 255.0, ds.train_labels


def _check(images, labels, what: str) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(images, dtype=np.float64)
    y = np.asarray(labels)
    if X.ndim != 3 or X.shape[1:] != (28, 28):
        raise ValueError(f"{what}: images must have shape (N, 28, 28), not {X.shape}")
    if y.shape != (X.shape[0],):
        raise ValueError(f"{what}: {X.shape[0]} images but labels of shape {y.shape}")
    if not np.issubdtype(y.dtype, np.integer) or (y.size and (y.min() < 0 or y.max() > 9)):
        raise ValueError(f"{what}: labels must be whole numbers 0 to 9")
    if not np.all(np.isfinite(X)) or (X.size and (X.min() < 0 or X.max() > 1)):
        raise ValueError(f"{what}: pixels must lie in [0, 1]")
    return X, y.astype(np.int64)


def finetune(model: Model, images: np.ndarray, labels: np.ndarray, *,
             replay: tuple[np.ndarray, np.ndarray] | None = None, seed: int = 0,
             progress: Callable[[int, int], object] | None = None,
             should_stop: Callable[[], bool] | None = None, **settings) -> Model:
    """A copy of ``model`` fine-tuned on a person's drawings; ``model`` is left untouched.

    Parameters
    ----------
    model : Model
    images : ndarray, (N, 28, 28)
        The person's drawings in [0, 1], as :func:`engine.net.preprocess.to_mnist` returns them.
    labels : ndarray of int, (N,)
    replay : (ndarray (M, 28, 28) in [0, 1], ndarray (M,)), optional
        Digits mixed into every batch so the model does not forget; default the bundled
        sample (:func:`default_replay`).
    seed : int
        Seeds the batches and distortions (same inputs and seed: the same model).
    progress : callable(done, total), optional
        Called after every step.
    should_stop : callable, optional
        Checked before every step; True ends early (the model so far is returned).
    **settings
        Override :data:`FINETUNE_DEFAULTS`.

    Returns
    -------
    Model
        Same architecture, normalisation and temperature; its record notes the fine-tuning.
    """
    opts = dict(FINETUNE_DEFAULTS)
    unknown = set(settings) - set(opts)
    if unknown:
        raise ValueError(f"unknown fine-tuning setting(s): {', '.join(sorted(unknown))}")
    opts.update(settings)
    X, y = _check(images, labels, "fine-tuning")
    if len(y) == 0:
        raise ValueError("fine-tuning needs at least one labelled drawing")
    Xr, yr = _check(*(replay if replay is not None else default_replay()), "replay")
    out = model.copy()
    dt = np.dtype(np.float32) if model.dtype == np.float32 else np.dtype(np.float64)
    params = {k: np.ascontiguousarray(v, dtype=dt) for k, v in out.params.items()}
    start = {k: v.copy() for k, v in params.items()}
    velocity = {k: np.zeros_like(v) for k, v in params.items()}
    Xn = out.prepare(X).astype(dt)
    Xrn = out.prepare(Xr).astype(dt) if len(yr) else np.zeros((0, 28, 28), dt)
    background = float(out.norm.apply(np.zeros(1), np.float64)[0])
    rng = np.random.default_rng(seed)
    steps = int(opts["steps"])
    for step in range(steps):
        if should_stop is not None and should_stop():
            break
        own = rng.integers(len(y), size=int(opts["own"]))
        xb = augment_batch(Xn[own], rng, background=background, **_OWN_AUGMENT)
        yb = y[own]
        if len(yr) and opts["replayed"]:
            rep = rng.integers(len(yr), size=int(opts["replayed"]))
            xb = np.concatenate([xb, augment_batch(Xrn[rep], rng, background=background)])
            yb = np.concatenate([yb, yr[rep]])
        _, grads = gradients(params, xb, yb, "xent", out.config)
        lr = dt.type(learning_rate(float(opts["alpha"]), "cosine", step / steps))
        for k, g in grads.items():
            if opts["anchor"]:
                g += dt.type(opts["anchor"]) * (params[k] - start[k])
            v = velocity[k]
            v *= dt.type(opts["momentum"])
            v += g
            params[k] -= lr * v
        if progress is not None:
            progress(step + 1, steps)
    out.params = params
    out.check()
    out.record.notes["finetuned"] = (f"on {len(y)} drawings of the user's own, "
                                     f"{len(yr):,} replayed digits, seed {seed}")
    return out
