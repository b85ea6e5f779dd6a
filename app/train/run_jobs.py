"""What the training thread runs: plain generators of events (no Qt).

:func:`training_job` loads the data, builds the run with :func:`engine.train.recipes.make_run`
and passes on the events of :func:`engine.train.recipes.run_events`, adding copies of the model
(:class:`Snapshot`) for the window to read the drawing with, so the window never touches
the arrays being trained. :func:`download_job` downloads MNIST. Both take a *control*
(:class:`app.threads.jobs.GeneratorJob`): ``stop_requested()``, ``stop_event``, ``clock()``
and ``report(event)`` for callbacks that cannot yield.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Callable, Iterator

from engine.net.model import Model
from engine.train.events import Checkpoint, Finished, IterationEnd, Progress
from engine.train.recipes import PreparedData, RunSettings, load_data, make_run, prepare
from engine.train.record import Record
from engine.train.tracker import RunTracker

__all__ = ["Status", "DataReady", "Snapshot", "RunRecorded", "RunEnded", "DownloadProgress", "DownloadEnded",
           "RunRequest", "DataCache", "training_job", "download_job"]


@dataclass(frozen=True)
class Status:
    """A short message for the status bar and the progress bar."""
    text: str


@dataclass(frozen=True)
class DataReady:
    """The data are loaded and prepared (one line saying which)."""
    description: str


@dataclass(frozen=True)
class Snapshot:
    """A copy of the model being trained, the run no longer touches it."""
    model: Model


@dataclass(frozen=True)
class RunRecorded:
    """The run's timeline (:class:`engine.history.snapshots.Timeline`), and the folder it was recorded
    in (None: not recorded; ``message`` says why)."""
    timeline: object
    path: object = None
    message: str = ""


@dataclass(frozen=True)
class RunEnded:
    """The run ended: the engine's Finished, the trained model (None if training never began)
    and the run's record (:attr:`engine.train.tracker.RunTracker.record`, made once; the model
    carries it)."""
    finished: Finished
    model: Model | None
    data: PreparedData | None
    record: Record | None = None


@dataclass(frozen=True)
class DownloadProgress:
    done: int
    total: int


@dataclass(frozen=True)
class DownloadEnded:
    ok: bool
    message: str


@dataclass
class RunRequest:
    """One run for :func:`training_job`.

    Attributes
    ----------
    settings : RunSettings
    model : Model or None
        Weights to continue (a copy is trained); None: the settings' seeded initialisation.
    epochs, tol : optional
        This run's iterations and tolerance when not the settings' (Step: 1 and 0).
    start_iteration : int
    data : PreparedData or None
        Ready data (tests, benchmarks); else loaded as the settings say.
    stepper_factory : callable or None
        ``(model, data, settings) -> stepper`` in place of the mode's (tests).
    chunk : int
        The article mode's images per compiled call (its stop and pause granularity).
    report_seconds, snapshot_seconds : float
        At most one Progress per ``report_seconds``, one Snapshot per ``snapshot_seconds``
        (after a Progress or the end of an iteration; the run's end hands the model over).
    runs_dir : str or Path or None
        Record the run there (:func:`engine.history.runs.save_run`); None: not recorded.
    """

    settings: RunSettings
    model: Model | None = None
    epochs: int | None = None
    tol: float | None = None
    start_iteration: int = 0
    data: PreparedData | None = None
    stepper_factory: Callable | None = None
    chunk: int = 64
    report_seconds: float = 0.05
    snapshot_seconds: float = 0.5          # the live probe and the kernels: twice a second
    runs_dir: object = None


class DataCache:
    """The last prepared data, reused while the settings that decide them stay the same."""

    def __init__(self):
        self.key = None
        self.data: PreparedData | None = None

    def get(self, settings: RunSettings, control) -> PreparedData:
        if self.data is not None and self.key == settings.data_key():
            return self.data
        self.data = None
        data = prepare(settings, load_data(settings, lambda done, total: not control.stop_requested(),
                                           should_stop=control.stop_requested))
        self.key, self.data = settings.data_key(), data
        return data

    def forget(self) -> None:
        self.key = self.data = None


def _stopped_early(message: str) -> RunEnded:
    return RunEnded(Finished("stopped", 0, math.nan, 0.0, 0, message), None, None)


def training_job(request: RunRequest, control, cache: DataCache | None = None) -> Iterator:
    """Events of one run: Status, DataReady, the engine's events, Snapshot, and RunEnded last."""
    s = request.settings
    data = request.data
    if data is None:
        yield Status("loading data…")
        try:
            data = (cache or DataCache()).get(s, control)
        except Exception:
            if control.stop_requested():      # a cancelled download or load
                yield _stopped_early("stopped while loading the data")
                return
            raise
    if control.stop_requested():
        yield _stopped_early("stopped before training began")
        return
    yield DataReady(data.description)
    model, stepper = make_run(s, data, request.model, chunk=request.chunk)
    if request.stepper_factory is not None:
        stepper = request.stepper_factory(model, data, s)
    yield Status("training…")
    last_snap = control.clock()
    previous = request.model.record if request.model is not None else None
    run = RunTracker(s, data, model, stepper, start_iteration=request.start_iteration,
                     previous=previous)
    for ev in run.events(stop=control.stop_event, epochs=request.epochs, tol=request.tol,
                         report_seconds=request.report_seconds, clock=control.clock):
        if isinstance(ev, Finished):
            yield _recorded(request, run)
            yield RunEnded(ev, model, data, run.record)
            return
        if isinstance(ev, Checkpoint):
            continue
        yield ev
        now = control.clock()
        if isinstance(ev, (IterationEnd, Progress)) and now - last_snap >= request.snapshot_seconds:
            last_snap = now
            yield Snapshot(model.copy())


def _recorded(request: RunRequest, run: RunTracker) -> RunRecorded:
    """Record the run in the runs folder (when asked and it trained at all)."""
    run.recorded_model()
    if request.runs_dir is None or run.finished.iterations == 0:
        return RunRecorded(run.timeline, None, "")
    try:
        path = run.save(request.runs_dir)
        return RunRecorded(run.timeline, path, f"run recorded in {path}")
    except Exception as exc:                  # noqa: BLE001 - a failed record loses no training
        return RunRecorded(run.timeline, None, f"the run was not recorded: {exc}")


def download_job(control) -> Iterator:
    """Download MNIST into Keras's cache; DownloadProgress (reported as it goes), DownloadEnded."""
    from engine.files import data as edata

    def progress(done, total):
        control.report(DownloadProgress(int(done), int(total or 0)))
        return not control.stop_requested()

    yield Status("downloading MNIST…")
    try:
        where = edata.download_keras(progress=progress)
    except Exception as exc:                  # noqa: BLE001 - said in the panel
        if control.stop_requested():
            yield DownloadEnded(False, "download cancelled")
        else:
            yield DownloadEnded(False, f"Download failed: {exc}")
        return
    where = f" to {where}" if isinstance(where, (str, os.PathLike)) else ""
    yield DownloadEnded(True, f"MNIST downloaded{where}")
