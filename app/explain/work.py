"""The computations behind the explanation panel, as plain functions for its worker
threads (no Qt): each takes what it needs and returns one result object."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from engine.explain.ablation import Broken, Damage, Ranking, accuracy, kernel_ranking
from engine.explain.attribution import explain
from engine.explain.backmap import attribution_rgba, to_canvas
from engine.explain.neighbours import HiddenIndex, HiddenPCA
from engine.explain.robustness import Robustness, robustness
from engine.net.reading import probabilities

__all__ = ["Context", "WhyResult", "RobustResult", "BreakResult", "LooksResult", "build_context",
           "why_task", "robust_task", "break_task", "rank_task", "looks_task", "SUBSAMPLE"]

SUBSAMPLE = 500
"""Test images in the quick accuracy subsample."""


@dataclass
class Context:
    """What the panel computes once per model: the data, the neighbour index and the map.

    Attributes
    ----------
    model : Model
    gen : int
        The panel's model number when it was built.
    index : HiddenIndex
        Over the training images.
    pca : HiddenPCA
        Fitted on the test images.
    test01 : ndarray, (n, 28, 28)
        The quick subsample of test images in [0, 1].
    test_labels : ndarray, (n,)
    accuracies : dict
        Test accuracy on the subsample by :class:`Damage` (filled as they are asked for).
    seconds : float
    """

    model: object
    gen: int
    index: HiddenIndex
    pca: HiddenPCA
    test01: np.ndarray
    test_labels: np.ndarray
    accuracies: dict = field(default_factory=dict)
    seconds: float = 0.0


def build_context(model, gen: int, data, subsample: int = SUBSAMPLE) -> Context:
    """Load the data if needed (``data`` None: the bundled sample), index the training
    images' hidden layers and fit the test images' PCA map."""
    t0 = time.perf_counter()
    if data is None:
        from engine.files.data import load_sample
        data = load_sample("explanations")
    train01 = data.train_images.astype(np.float32) / 255.0
    test01 = data.test_images.astype(np.float32) / 255.0
    index = HiddenIndex(model, train01, data.train_labels)
    pca = HiddenPCA.fit(model, test01, data.test_labels)
    n = min(subsample, len(test01))
    return Context(model, gen, index, pca, test01[:n], np.asarray(data.test_labels[:n]),
                   seconds=time.perf_counter() - t0)


@dataclass
class WhyResult:
    """An attribution map (see :func:`engine.explain.attribution.explain`) and its overlay.

    Attributes
    ----------
    gen : int
    method : str
    target : int
        The class explained.
    attribution : ndarray, (28, 28)
    proba : ndarray, (10,)
        The drawing's probabilities as the window reads it (:func:`engine.net.reading.probabilities`:
        averaged over small distortions for a model trained with them), so that the tab names
        the digit and the certainty the window shows.
    overlay : ndarray, (H, W, 4) uint8 or None
        On the canvas (the 28x28 input without a canvas image).
    seconds : float
    """

    gen: int
    method: str
    target: int
    attribution: np.ndarray
    proba: np.ndarray
    overlay: np.ndarray | None
    seconds: float


def why_task(model, gen: int, image28: np.ndarray, canvas: np.ndarray | None, preprocess: bool,
             method: str, target: int | None) -> WhyResult:
    t0 = time.perf_counter()
    proba = probabilities(model, image28[None])[0]          # (the window's reading)
    if target is None:
        target = int(proba.argmax())
    a, _ = explain(model, image28, target, method)
    lim = float(np.max(np.abs(a)))
    if canvas is None:
        overlay = attribution_rgba(a, lim)
    else:
        overlay = attribution_rgba(to_canvas(a, canvas, preprocess), lim)
    return WhyResult(gen, method, int(target), a, proba, overlay, time.perf_counter() - t0)


@dataclass
class RobustResult:
    """The drawing's robustness with MNIST preprocessing (``on``) and without (``off``)."""

    gen: int
    on: Robustness
    off: Robustness
    seconds: float


def robust_task(model, gen: int, drawing: np.ndarray) -> RobustResult:
    t0 = time.perf_counter()
    on = robustness(model, drawing, True)
    off = robustness(model, drawing, False)
    return RobustResult(gen, on, off, time.perf_counter() - t0)


@dataclass
class BreakResult:
    """The drawing's reading and the quick test accuracy with some damage.

    Attributes
    ----------
    gen : int
    damage : Damage
    proba : ndarray, (10,) or None
        The drawing's probabilities with the damage (None: no drawing).
    intact_proba : ndarray, (10,) or None
    accuracy, intact_accuracy : float
        On the context's test subsample.
    samples : int
    seconds : float
    """

    gen: int
    damage: Damage
    proba: np.ndarray | None
    intact_proba: np.ndarray | None
    accuracy: float
    intact_accuracy: float
    samples: int
    seconds: float


def _accuracy(ctx: Context, damage: Damage) -> float:
    if damage not in ctx.accuracies:
        ctx.accuracies[damage] = accuracy(Broken(ctx.model, damage).predict_proba, ctx.test01, ctx.test_labels)
    return ctx.accuracies[damage]


def break_task(ctx: Context, damage: Damage, image28: np.ndarray | None) -> BreakResult:
    t0 = time.perf_counter()
    broken = Broken(ctx.model, damage)
    proba = intact = None
    if image28 is not None:
        proba = broken.predict_proba(image28[None])[0]
        intact = ctx.model.predict_proba(image28[None])[0]
    return BreakResult(ctx.gen, damage, proba, intact, _accuracy(ctx, damage), _accuracy(ctx, Damage()),
                       len(ctx.test_labels), time.perf_counter() - t0)


def rank_task(ctx: Context) -> tuple[int, Ranking, float]:
    """``(gen, ranking, seconds)``: the kernels ranked on the test subsample."""
    t0 = time.perf_counter()
    r = kernel_ranking(ctx.model, ctx.test01, ctx.test_labels)
    return ctx.gen, r, time.perf_counter() - t0


@dataclass
class LooksResult:
    """The nearest training images and the drawing's place on the PCA map.

    Attributes
    ----------
    gen : int
    index : ndarray of int, (k,)
    distance : ndarray, (k,)
    labels : ndarray of int, (k,)
    images : ndarray, (k, 28, 28)
    xy : ndarray, (2,)
    proba : ndarray, (10,)
    seconds : float
    """

    gen: int
    index: np.ndarray
    distance: np.ndarray
    labels: np.ndarray
    images: np.ndarray
    xy: np.ndarray
    proba: np.ndarray
    seconds: float


def looks_task(ctx: Context, image28: np.ndarray, k: int = 8) -> LooksResult:
    t0 = time.perf_counter()
    fwd = ctx.model.forward(ctx.model.prepare(image28[None]), maps=False)
    h = fwd.hidden.astype(np.float64)[0]
    idx, dist = ctx.index.nearest(h, k, hidden=True)
    return LooksResult(ctx.gen, idx, dist, ctx.index.labels[idx], ctx.index.images01[idx],
                       ctx.pca.project(h), fwd.proba[0], time.perf_counter() - t0)
