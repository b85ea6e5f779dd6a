"""Snapshots of a model during a run: when to take them and how many to keep.

A run keeps a snapshot after 64, 128, 256, ... images (log-spaced, while the first
iteration's images run out) and at the end of every iteration, each with the figures of
that moment: the training error so far and, when the run tested then, the test figures.
:class:`Timeline` holds them; past :data:`CAP` snapshots it drops every second one of
the older half, so its memory stays bounded whatever the run's length.

:func:`snapshot_events` passes a run's events through and fills a timeline from them (the driver
yields :class:`engine.train.events.Checkpoint` at the image counts :func:`checkpoints` lists).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterable, Iterator

import numpy as np

from ..net.model import Model
from ..train.events import Checkpoint, Evaluated, IterationEnd
from ..train.record import TestFigures

__all__ = ["CAP", "FIRST", "checkpoints", "TimePoint", "Timeline", "snapshot_events"]

#: Snapshots kept at most by a timeline (older ones are thinned past it).
CAP = 64
#: Images before the first snapshot; the next ones double it.
FIRST = 64


def checkpoints(images_per_iteration: int, first: int = FIRST) -> list[int]:
    """The log-spaced image counts of the early snapshots: ``first, 2*first, ...`` below
    one iteration's size (the end of each iteration is a snapshot anyway)."""
    out, n = [], int(first)
    while n < int(images_per_iteration):
        out.append(n)
        n *= 2
    return out


@dataclass(frozen=True)
class TimePoint:
    """The model at one moment of a run.

    Attributes
    ----------
    images : int
        Training images seen since the run began.
    position : float
        Iterations done: ``iteration + done / size`` (1.0: the end of the first).
    train_error : float
        Mean training error of the current iteration so far (the article's figure).
    model : Model
        A copy of the weights then (the run no longer touches it).
    test : TestFigures or None
        The test figures, when the run tested at that moment.
    """

    images: int
    position: float
    train_error: float
    model: Model
    test: TestFigures | None = None

    @property
    def label(self) -> str:
        return f"iteration {self.position:.3g} · {self.images:,} images"


class Timeline:
    """The snapshots of one run, oldest first, at most ``cap`` of them.

    Parameters
    ----------
    cap : int
        When a snapshot is added past ``cap``, every second snapshot of the older half is
        dropped (the first, log-spaced ones are among the older ones: the early moments
        stay the densest).
    """

    def __init__(self, cap: int = CAP):
        if cap < 4:
            raise ValueError(f"a timeline keeps at least 4 snapshots, not {cap}")
        self.cap = int(cap)
        self.points: list[TimePoint] = []

    def __len__(self) -> int:
        return len(self.points)

    def __getitem__(self, i: int) -> TimePoint:
        return self.points[i]

    def add(self, point: TimePoint) -> None:
        """Append a snapshot (thinning the older ones past the cap)."""
        self.points.append(point)
        if len(self.points) > self.cap:
            half = len(self.points) // 2
            old = self.points[:half]
            self.points = old[::2] + self.points[half:]

    def attach_test(self, position: float, figures: TestFigures) -> None:
        """Give the snapshot at ``position`` (the end of an iteration) its test figures."""
        for i in range(len(self.points) - 1, -1, -1):
            if abs(self.points[i].position - position) < 1e-9:
                self.points[i] = replace(self.points[i], test=figures)
                return

    def test_at(self, i: int) -> TestFigures | None:
        """The latest test figures at or before snapshot ``i`` (None: not tested yet)."""
        for p in reversed(self.points[:i + 1]):
            if p.test is not None:
                return p.test
        return None

    @property
    def nbytes(self) -> int:
        """Bytes held by the snapshots' weights."""
        return sum(v.nbytes for p in self.points for v in p.model.params.values())

    def probabilities(self, image01: np.ndarray) -> np.ndarray:
        """The ten probabilities of a drawing at every snapshot.

        Parameters
        ----------
        image01 : ndarray, (28, 28)
            The network's input image in [0, 1].

        Returns
        -------
        ndarray, (len(self), 10)
        """
        out = np.zeros((len(self.points), 10))
        for i, p in enumerate(self.points):
            out[i] = p.model.predict_proba(image01[None])[0]
        return out


def snapshot_events(events: Iterable, model: Model, timeline: Timeline, size: int,
           start_iteration: int = 0) -> Iterator:
    """Pass a run's events through, adding snapshots of ``model`` to ``timeline``.

    Parameters
    ----------
    events : iterable
        The run's events (:func:`engine.train.recipes.run_events` with ``checkpoints``).
    model : Model
        The model being trained (copied at each snapshot).
    timeline : Timeline
    size : int
        Images per iteration.
    start_iteration : int
        The run's first iteration number.
    """
    timeline.add(TimePoint(0, float(start_iteration), float("nan"), model.copy()))
    for ev in events:
        if isinstance(ev, Checkpoint):
            timeline.add(TimePoint(ev.images, ev.iteration + ev.done / max(size, 1),
                                   ev.running_error, model.copy()))
        elif isinstance(ev, IterationEnd):
            timeline.add(TimePoint((ev.iteration - start_iteration + 1) * size, ev.iteration + 1.0, ev.train_error, model.copy()))
        elif isinstance(ev, Evaluated):
            timeline.attach_test(ev.iteration + 1.0, ev.figures)
        yield ev
