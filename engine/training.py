"""Training as a plain generator of progress events, shared by every mode.

A *mode* supplies a stepper: an object with ``size`` (images per iteration) and
``epoch(iteration)``, a generator that trains one iteration on ``model.params`` in place
and, after each chunk of images (the article mode) or mini-batch (the backprop mode),
yields ``(done, sq_error_sum, loss_sum)`` accumulated over the iteration so far.

:func:`train` drives a stepper: it checks the stop flag between chunks, throttles
:class:`~engine.events.Progress` events, ends each iteration with
:class:`~engine.events.IterationEnd` (and :class:`~engine.events.Evaluated` when test
data is given), applies the stopping rule (iterate while ``iteration < max_iter`` and
``error > tol``), and on NaN or infinity restores the last good weights and stops.
"""
from __future__ import annotations

import math
import time
from typing import Callable, Iterator, Protocol

import numpy as np

from .evaluate import evaluate
from .events import Evaluated, Finished, IterationEnd, Progress
from .model import Model

__all__ = ["Stepper", "train", "StopFlag"]


class Stepper(Protocol):
    size: int

    def epoch(self, iteration: int) -> Iterator[tuple[int, float, float]]:
        ...


class StopFlag:
    """A flag that training checks between chunks; ``set()`` asks it to stop."""

    def __init__(self):
        self._set = False

    def set(self) -> None:
        self._set = True

    def clear(self) -> None:
        self._set = False

    def is_set(self) -> bool:
        return self._set

    __bool__ = is_set


def _stopped(stop) -> bool:
    if stop is None:
        return False
    if callable(stop) and not hasattr(stop, "is_set"):
        return bool(stop())
    return bool(stop.is_set())


def train(model: Model, stepper: Stepper, *, max_iter: int = 50, tol: float | None = 0.1,
          stop=None, test: tuple[np.ndarray, np.ndarray] | None = None, eval_every: int = 1,
          pooled_tanh_at_test: bool = True, report_seconds: float = 0.25,
          start_iteration: int = 0, clock: Callable[[], float] = time.perf_counter
          ) -> Iterator[Progress | IterationEnd | Evaluated | Finished]:
    """Train ``model`` with ``stepper`` and yield progress events.

    Parameters
    ----------
    model : Model
        Trained in place (the stepper holds its parameter arrays).
    stepper : Stepper
        One mode's per-iteration trainer.
    max_iter : int
        Iterations at most in this run.
    tol : float or None
        Stop when an iteration's error is at or under ``tol`` (the article: 0.1). ``None``
        or 0 runs all ``max_iter`` iterations.
    stop : threading.Event, StopFlag, callable or None
        Checked between chunks/batches; when set, training stops with reason ``"stopped"``.
    test : (X, labels) or None
        Normalised test images ``(N, 28, 28)`` and labels ``(N,)``; evaluated every
        ``eval_every`` iterations and after the last.
    pooled_tanh_at_test : bool
        ``False`` evaluates as the article's test code does (no tanh on the pooled layer).
    report_seconds : float
        At most one :class:`Progress` event per this many seconds.
    start_iteration : int
        Number of the first iteration (to continue a run: the GUI's Step).
    clock : callable
        Time source (seconds).

    Yields
    ------
    Progress, IterationEnd, Evaluated, Finished
        ``Finished`` always comes last.
    """
    t_train = 0.0
    images = 0
    last_error = math.nan
    good = {k: v.copy() for k, v in model.params.items()}
    last_report = clock()
    done_iters = 0
    reason = "max_iter"
    message = ""
    iteration = start_iteration

    def restore():
        for k, v in good.items():
            model.params[k][...] = v

    for iteration in range(start_iteration, start_iteration + max_iter):
        t0 = clock()
        seg = t0
        done = sq = loss = 0
        diverged = stopped = False
        for done, sq, loss in stepper.epoch(iteration):
            now = clock()
            t_train += now - seg
            if not (math.isfinite(sq) and math.isfinite(loss)):
                diverged = True
                break
            if _stopped(stop):
                stopped = True
                break
            if now - last_report >= report_seconds:
                last_report = now
                if all(np.isfinite(v).all() for v in model.params.values()):
                    for k, v in model.params.items():
                        good[k][...] = v
                yield Progress(iteration, int(done), stepper.size, sq / max(done, 1),
                               (images + done) / max(t_train, 1e-9), t_train)
            seg = clock()
        else:
            t_train += clock() - seg
        images += int(done)
        if not diverged and not all(np.isfinite(v).all() for v in model.params.values()):
            diverged = True
        if diverged:
            restore()
            reason = "diverged"
            message = (f"training diverged in iteration {iteration} (the error became NaN or "
                       f"infinite); the last good weights were kept. Try a lower learning rate.")
            break
        if stopped:
            reason = "stopped"
            message = f"stopped by request in iteration {iteration} after {done} images"
            break
        for k, v in model.params.items():
            good[k][...] = v
        seconds = clock() - t0
        last_error = sq / max(done, 1)
        done_iters += 1
        yield IterationEnd(iteration, last_error, loss / max(done, 1), seconds,
                           done / max(seconds, 1e-9))
        converged = tol is not None and tol > 0 and last_error <= tol
        last = converged or iteration == start_iteration + max_iter - 1
        if test is not None and (last or (iteration - start_iteration + 1) % max(eval_every, 1) == 0):
            yield Evaluated(iteration, evaluate(model, test[0], test[1], pooled_tanh=pooled_tanh_at_test))
        if converged:
            reason = "converged"
            message = f"converged at iteration {iteration} with error {last_error:.5f}"
            break
    if reason == "max_iter":
        message = f"ran {done_iters} iterations without reaching the tolerance" if tol else \
            f"ran {done_iters} iterations"
    yield Finished(reason, done_iters, last_error, t_train, images, message)
