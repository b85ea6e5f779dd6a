"""Training as a plain generator of progress events, shared by every mode.

A *mode* supplies a stepper: an object with ``size`` (images per iteration) and
``epoch(iteration)``, a generator that trains one iteration on ``model.params`` in place
and, after each chunk of images (the article mode) or mini-batch (the backprop mode),
yields ``(done, sq_error_sum, loss_sum)`` accumulated over the iteration so far.

:func:`train` drives a stepper: it checks the stop flag between chunks, throttles
:class:`~engine.train.events.Progress` events, ends each iteration with
:class:`~engine.train.events.IterationEnd` (and :class:`~engine.train.events.Evaluated` when test
data is given) and applies the stopping rule (iterate while ``iteration < max_iter`` and
``error > tol``). On NaN or infinity it puts back the weights at the end of the last
finite chunk and stops.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable, Generator, Iterator, Protocol

import numpy as np

from ..net.evaluate import evaluate
from ..net.model import Model
from .events import Checkpoint, Evaluated, Finished, IterationEnd, Progress

__all__ = ["Stepper", "train"]


class Stepper(Protocol):
    size: int

    def epoch(self, iteration: int) -> Iterator[tuple[int, float, float]]:
        ...


def _stopped(stop) -> bool:
    """Whether ``stop`` (a ``threading.Event``, a callable or None) asks to stop."""
    if stop is None:
        return False
    is_set = getattr(stop, "is_set", None)
    return bool(is_set() if is_set is not None else stop())


def _finite(params: dict) -> bool:
    """Whether every parameter is finite (a NaN or an infinity makes its array's sum so)."""
    return all(math.isfinite(float(np.add.reduce(v, axis=None))) for v in params.values())


class _LastGood:
    """A copy of the weights at the end of the last finite chunk, and which chunk that was."""

    def __init__(self, params: dict):
        self.params = params
        self.copy = {k: v.copy() for k, v in params.items()}
        self.at: tuple[int, int, int] | None = None     # (iteration, done, size); None: the start

    def keep(self, iteration: int, done: int, size: int) -> None:
        for k, v in self.params.items():
            np.copyto(self.copy[k], v)
        self.at = (iteration, done, size)

    def restore(self, unit: str = "iteration") -> str:
        """Put the kept weights back; returns which ones they are, for the user."""
        for k, v in self.copy.items():
            np.copyto(self.params[k], v)
        if self.at is None:
            return "the weights the run started from"
        iteration, done, size = self.at
        if done >= size:
            return f"the weights at the end of {unit} {iteration}"
        return f"the weights after image {done:,} of {unit} {iteration}"


@dataclass
class _Pass:
    """How one iteration's pass over the images ended."""

    done: int = 0
    sq: float = 0.0
    loss: float = 0.0
    seconds: float = 0.0
    diverged: bool = False
    stopped: bool = False


class _Clock:
    """Training time (evaluation and the consumer's time excluded) and report throttling."""

    def __init__(self, clock: Callable[[], float], report_seconds: float):
        self.clock = clock
        self.report_seconds = report_seconds
        self.trained = 0.0
        self.last_report = clock()

    def due(self, now: float) -> bool:
        if now - self.last_report >= self.report_seconds:
            self.last_report = now
            return True
        return False


def _one_pass(model: Model, stepper: Stepper, iteration: int, stop, clock: _Clock,
              good: _LastGood, images_before: int, marks: list | None = None
              ) -> Generator[Progress | Checkpoint, None, _Pass]:
    """Train one iteration, yielding Progress (and Checkpoint as ``marks``, ascending image
    counts, are passed: they are consumed); returns how the pass ended."""
    out = _Pass()
    t0 = seg = clock.clock()
    for done, sq, loss in stepper.epoch(iteration):
        now = clock.clock()
        clock.trained += now - seg
        if not (math.isfinite(sq) and math.isfinite(loss) and _finite(model.params)):
            out.diverged = True
            break
        out.done, out.sq, out.loss = int(done), sq, loss
        good.keep(iteration, out.done, stepper.size)
        if _stopped(stop):
            out.stopped = True
            break
        if marks and images_before + done >= marks[0]:
            while marks and images_before + done >= marks[0]:
                marks.pop(0)
            yield Checkpoint(iteration, out.done, stepper.size, images_before + out.done,
                             sq / max(done, 1))
        if clock.due(now):
            yield Progress(iteration, out.done, stepper.size, sq / max(done, 1),
                           (images_before + done) / max(clock.trained, 1e-9), clock.trained)
        seg = clock.clock()
    else:
        clock.trained += clock.clock() - seg
    out.seconds = clock.clock() - t0
    return out


def train(model: Model, stepper: Stepper, *, max_iter: int = 50, tol: float | None = 0.1,
          stop=None, test: tuple[np.ndarray, np.ndarray] | None = None, eval_every: int = 1,
          pooled_tanh_at_test: bool = True, report_seconds: float = 0.25,
          start_iteration: int = 0, clock: Callable[[], float] = time.perf_counter,
          checkpoints=None, unit: str = "iteration") -> Iterator[Progress | Checkpoint | IterationEnd | Evaluated | Finished]:
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
    stop : threading.Event, callable or None
        Checked between chunks/batches; when set (or returning True), training stops with
        reason ``"stopped"``.
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
    checkpoints : iterable of int, optional
        Image counts (since the run began) after which to yield a :class:`Checkpoint`: at
        the end of the first chunk or batch at or past each (for snapshots).
    unit : str
        What the mode calls an iteration in its messages (``"iteration"``, ``"epoch"``).

    Yields
    ------
    Progress, IterationEnd, Evaluated, Finished
        ``Finished`` always comes last.
    """
    timer = _Clock(clock, report_seconds)
    good = _LastGood(model.params)
    images = done_iters = 0
    last_error = math.nan
    reason, message = "max_iter", ""
    end = start_iteration + max_iter
    marks = sorted(int(c) for c in checkpoints) if checkpoints else None
    for iteration in range(start_iteration, end):
        ran = yield from _one_pass(model, stepper, iteration, stop, timer, good, images, marks)
        images += ran.done
        if ran.diverged:
            kept = good.restore(unit)
            reason = "diverged"
            message = (f"training diverged in {unit} {iteration} (the error became NaN or "
                       f"infinite); {kept} were kept. Try a lower learning rate.")
            break
        if ran.stopped:
            reason = "stopped"
            message = f"stopped by request in {unit} {iteration} after {ran.done:,} images"
            break
        last_error = ran.sq / max(ran.done, 1)
        done_iters += 1
        yield IterationEnd(iteration, last_error, ran.loss / max(ran.done, 1), ran.seconds,
                           ran.done / max(ran.seconds, 1e-9))
        converged = bool(tol) and last_error <= tol
        due = (iteration - start_iteration + 1) % max(eval_every, 1) == 0
        if test is not None and (converged or due or iteration == end - 1):
            began = clock()
            figures = evaluate(model, test[0], test[1], pooled_tanh=pooled_tanh_at_test)
            yield Evaluated(iteration, figures, clock() - began)
        if converged:
            reason = "converged"
            message = f"converged at {unit} {iteration} with error {last_error:.5f}"
            break
    if reason == "max_iter":
        ran = f"ran {done_iters} {unit}{'' if done_iters == 1 else 's'}"
        message = f"{ran} without reaching the tolerance" if tol else ran
    yield Finished(reason, done_iters, last_error, timer.trained, images, message)
