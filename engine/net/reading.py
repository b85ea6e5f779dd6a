"""The one rule that reads drawings: the digit, its probabilities, and the verdict the window shows.

:func:`read` gives, for each 28x28 image, the most probable digit, the ten probabilities and a
verdict: ``"not a digit"`` when the image is blank or the model's detector
(:mod:`engine.handwriting.nondigit`) says the drawing looks like no digit; ``"not sure"`` when the best
probability is under :data:`NOT_SURE_BELOW`; ``"digit"`` otherwise.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..handwriting.nondigit import is_digit
from .model import Model

__all__ = ["Reading", "read", "VERDICTS", "NOT_SURE_BELOW"]

#: The verdicts, from sure to not a digit.
VERDICTS = ("digit", "not sure", "not a digit")
#: Below this best probability a drawing that looks like a digit is read "not sure".
NOT_SURE_BELOW = 0.5
_BATCH = 1000


@dataclass(frozen=True)
class Reading:
    """What a model reads in ``N`` images.

    Attributes
    ----------
    digit : ndarray of int64, (N,)
        The most probable digit.
    proba : ndarray of float, (N, 10)
        The ten probabilities (with the model's temperature).
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
    proba = np.asarray(forward.proba)
    digit = proba.argmax(axis=1).astype(np.int64)
    top = proba.max(axis=1)
    verdict = np.where(top >= NOT_SURE_BELOW, "digit", "not sure").astype(object)
    verdict[~is_digit(model, x, forward)] = "not a digit"
    return Reading(digit, proba, verdict.astype(str))
