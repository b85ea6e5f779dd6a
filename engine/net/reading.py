"""The one rule that reads drawings: the digit, its probabilities, and the verdict the window shows.

:func:`read` gives, for each 28x28 image, the most probable digit, the ten probabilities and a
verdict: ``"not a digit"`` when the image is blank or the model's detector
(:mod:`engine.handwriting.nondigit`) says the drawing looks like no digit; ``"not sure"`` when the best
probability is under :data:`NOT_SURE_BELOW`; ``"digit"`` otherwise.

A model trained with augmentation (its record's settings say ``augment``) reads each image
as the mean of its probabilities for the image and for :data:`DISTORTIONS` small fixed
distortions of it (turned, shifted, scaled, slanted, thinner or thicker strokes, within the
ranges of :data:`DISTORTION_RANGES`, milder than the training's): people's drawings vary in
these ways and the model has learned to read each such variant, so their mean is steadier than
one reading (on real pen digits of writers held out of the shipped model's training, 96.8% ->
98.0%; ``docs/handwriting.md``). A model trained without augmentation reads the image
alone: it has not learned the distortions, and they do not help it. The "not a digit" check
looks at the image itself.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from ..handwriting.nondigit import is_digit
from .blas import one_thread
from .model import Model

__all__ = ["Reading", "read", "probabilities", "averages_distortions", "VERDICTS", "NOT_SURE_BELOW", "DISTORTIONS",
           "DISTORTION_RANGES"]

#: The verdicts, from sure to not a digit.
VERDICTS = ("digit", "not sure", "not a digit")
#: Below this best probability a drawing that looks like a digit is read "not sure".
NOT_SURE_BELOW = 0.5
_BATCH = 500
#: How many distortions of an image a model trained with augmentation also reads (with the
#: image, 17 looks). One drawing's stay under :data:`engine.net.conv_loops.PARALLEL_MIN`: the
#: window's reading runs on its own thread and never wakes (nor, on a first launch, compiles)
#: the thread pool's loops.
DISTORTIONS = 16
#: Their ranges (see :func:`engine.train.augment.random_affines`); ``thickness`` as in
#: :data:`engine.train.augment.AUGMENT_DEFAULTS`. Drawn once, from a fixed seed: the same for every image.
DISTORTION_RANGES = {"shift": 1.0, "rotate": 8.0, "scale": (0.92, 1.08), "aspect": 0.05, "shear": 0.1,
                     "thickness": (-0.2, 0.3)}


@dataclass(frozen=True)
class Reading:
    """What a model reads in ``N`` images.

    Attributes
    ----------
    digit : ndarray of int64, (N,)
        The most probable digit.
    proba : ndarray of float, (N, 10)
        The ten probabilities (with the model's temperature; for a model trained with
        augmentation, their mean over the image and its distortions).
    verdict : ndarray of str, (N,)
        Each one of :data:`VERDICTS`.
    """

    digit: np.ndarray
    proba: np.ndarray
    verdict: np.ndarray

    def __len__(self) -> int:
        return len(self.digit)

    def flagged(self) -> np.ndarray:
        """Whether each reading is anything but ``"digit"``, bool ``(N,)``."""
        return self.verdict != "digit"


def averages_distortions(model: Model) -> bool:
    """Whether :func:`read` averages ``model`` over the distortions (it was trained with augmentation)."""
    settings = getattr(model.record, "settings", None)
    return isinstance(settings, dict) and bool(settings.get("augment"))


@functools.cache
def _maps() -> tuple[np.ndarray, np.ndarray]:
    """The distortions: affine maps ``(DISTORTIONS, 2, 3)`` and stroke width changes ``(DISTORTIONS,)``."""
    from ..train.augment import random_affines           # (numpy only)
    rng = np.random.default_rng(0)
    ranges = dict(DISTORTION_RANGES)
    lo, hi = ranges.pop("thickness")
    maps = random_affines(DISTORTIONS, rng, 28, **ranges)
    return maps, rng.uniform(lo, hi, DISTORTIONS)


def _averaged(model: Model, x: np.ndarray, proba: np.ndarray) -> np.ndarray:
    """The mean of ``proba`` ``(N, 10)`` (the images ``x`` ``(N, 28, 28)``) and the model's
    probabilities for the distortions of each image, ``(N, 10)``."""
    from .conv_loops import warp                         # numba: imported on first use
    maps, widths = _maps()
    n, k = len(x), len(widths)
    variants = warp(np.repeat(x, k, axis=0), np.tile(maps, (n, 1, 1)), np.tile(widths, n), 0.0)
    with one_thread():               # the window's thread: no BLAS helper left spinning (.blas)
        p = model.predict_proba(variants).reshape(n, k, -1)
    return (proba + p.sum(axis=1)) / (k + 1)


def probabilities(model: Model, images, forward=None) -> np.ndarray:
    """:func:`read`'s probabilities ``(N, 10)`` alone, without the verdict (no "not a digit" check).

    ``images`` and ``forward`` as :func:`read`'s."""
    x = np.asarray(images, dtype=np.float32).reshape(-1, 28, 28)
    if forward is None and len(x) > _BATCH:          # bounded memory: a batch at a time
        return np.concatenate([probabilities(model, x[i:i + _BATCH]) for i in range(0, len(x), _BATCH)])
    proba = np.asarray(forward.proba) if forward is not None else model.predict_proba(x)
    return _averaged(model, x, proba) if averages_distortions(model) and len(x) else proba


def read(model: Model, images, forward=None) -> Reading:
    """Read images: the digit, the probabilities and the verdict (the window's rule).

    Parameters
    ----------
    model : Model
    images : array-like, (N, 28, 28) or (28, 28)
        In [0, 1], white ink on black, as :func:`engine.to_mnist` makes them.
    forward : engine.net.model.Forward, optional
        The model's forward pass of these images when the caller already has it.

    Returns
    -------
    Reading
    """
    x = np.asarray(images, dtype=np.float32).reshape(-1, 28, 28)
    if forward is None and len(x) > _BATCH:          # bounded memory: a batch at a time
        parts = [read(model, x[i:i + _BATCH]) for i in range(0, len(x), _BATCH)]
        return Reading(*(np.concatenate([getattr(r, k) for r in parts]) for k in ("digit", "proba", "verdict")))
    if forward is None:
        forward = model.forward(model.prepare(x), maps=False)
    proba = probabilities(model, x, forward)
    digit = proba.argmax(axis=1).astype(np.int64)
    top = proba.max(axis=1)
    verdict = np.where(top >= NOT_SURE_BELOW, "digit", "not sure").astype(object)
    verdict[~is_digit(model, x, forward)] = "not a digit"
    return Reading(digit, proba, verdict.astype(str))
