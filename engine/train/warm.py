"""Load a mode's compiled loops before its run needs them: :func:`warm_up`.

The first call of each compiled loop loads it from numba's cache (about 0.1 s a loop) or
compiles it (seconds, the first time ever). Done inside a run, that time lands in the first
batches and in the run's images per second; the command line warms up after preparing the
data, before the run's clock starts. (Warming up on a thread while the data loads was
measured slower: the two compete for the interpreter.)
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..net.conv_loops import PARALLEL_MIN
from ..net.evaluate import evaluate
from ..net.model import Normalisation
from .recipes import PreparedData, RunSettings, make_run

__all__ = ["warm_up"]


def warm_up(settings: RunSettings) -> None:
    """Train and test a few random images with ``settings``' mode, architecture and dtype.

    Every loop the run will call (parallel and serial, training and testing) is loaded;
    nothing of the caller's is touched.
    """
    n = max(PARALLEL_MIN, 2 * int(settings.batch) if settings.mode == "backprop" else 8)
    rng = np.random.default_rng(0)
    dtype = settings.dtype
    pixels = rng.integers(0, 256, (n, 28, 28)).astype(np.uint8)
    norm = Normalisation.fit(pixels, settings.normalisation)
    X = norm.apply(pixels, dtype)
    y = np.arange(n, dtype=np.int64) % 10
    tiny = replace(settings, train=None, epochs=1, tol=0.0, collection=None)
    model, stepper = make_run(tiny, PreparedData(X, y, X, y, norm, "warm-up"))
    for _ in stepper.epoch(0):
        pass
    evaluate(model, X, y)
    evaluate(model, X[:1], y[:1])                # a batch too small for the pool: the serial loop

