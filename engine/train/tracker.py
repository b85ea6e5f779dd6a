"""One run, followed from its first event to its record: :class:`RunTracker`.

The command line, the window's training job, the sweeps, the screenshots and the
benchmarks all train the same way::

    model, stepper = make_run(settings, data)
    run = RunTracker(settings, data, model, stepper)
    for event in run.events(): ...          # the engine's events, passed through
    model.record = run.record                # made once, from the finished event
    run.save(runs_dir)                       # the runs folder (engine.history.runs.save_run)

The tracker keeps what every caller used to gather by hand: the finished event, the last
test figures, the per-iteration log (:class:`engine.history.runs.RunLog`) and the timeline of
snapshots (:class:`engine.history.snapshots.Timeline`). Its :attr:`~RunTracker.record` is made
once; asking again gives the same object.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator

from ..history.runs import RunLog, save_run
from ..history.snapshots import Timeline, checkpoints, snapshot_events
from ..net.model import Model
from .events import Evaluated, Finished
from .recipes import PreparedData, RunSettings, make_record, run_events
from .record import Record, TestFigures

__all__ = ["RunTracker"]


class RunTracker:
    """Follow one training run and make its record once.

    Parameters
    ----------
    settings : RunSettings
    data : PreparedData
    model : Model
        The model being trained (as :func:`engine.train.recipes.make_run` returned it).
    stepper : object, optional
        The mode's stepper; needed by :meth:`events` and for snapshots (its ``size``).
    start_iteration : int
        The number of the run's first iteration (a continued run counts on).
    previous : Record, optional
        The record of the model the run continued (its iterations and time are added).
    snapshots : bool
        Keep a timeline of snapshots (log-spaced, then one per iteration). A sweep's runs
        keep none.

    Attributes
    ----------
    finished : engine.train.events.Finished or None
        The run's last event, once it came.
    test : TestFigures or None
        The last test figures of the run.
    log : RunLog
        Per-iteration figures.
    timeline : Timeline
        The snapshots (empty without ``snapshots``).
    test_seconds : float
        Time spent testing (the :class:`~engine.train.events.Evaluated` events' ``seconds``).
    """

    def __init__(self, settings: RunSettings, data: PreparedData, model: Model, stepper=None, *,
                 start_iteration: int = 0, previous: Record | None = None, snapshots: bool = True):
        self.settings, self.data, self.model, self.stepper = settings, data, model, stepper
        self.start_iteration = int(start_iteration)
        self.previous = previous
        self.snapshots = bool(snapshots) and stepper is not None
        self.finished: Finished | None = None
        self.test: TestFigures | None = None
        self.log = RunLog()
        self.timeline = Timeline()
        self.test_seconds = 0.0
        self._record: Record | None = None

    # -- following ---------------------------------------------------------------------------
    def events(self, **options) -> Iterator:
        """Train as the settings say (:func:`engine.train.recipes.run_events`, ``options`` passed
        on: ``stop``, ``epochs``, ``tol``, ``eval_every``, ``report_seconds``, ``clock``) and
        pass its events through :meth:`follow`."""
        if self.stepper is None:
            raise ValueError("a tracker made without a stepper cannot run the training")
        if self.snapshots:
            options.setdefault("checkpoints", checkpoints(self.stepper.size))
        events = run_events(self.settings, self.data, self.model, self.stepper,
                            start_iteration=self.start_iteration, **options)
        return self.follow(events)

    def follow(self, events: Iterable) -> Iterator:
        """Pass ``events`` through, keeping the log, the snapshots, the last test figures and
        the finished event."""
        if self.snapshots:
            events = snapshot_events(events, self.model, self.timeline, self.stepper.size,
                                     self.start_iteration)
        for ev in events:
            self.log.see(ev)
            if isinstance(ev, Evaluated):
                self.test = ev.figures
                self.test_seconds += ev.seconds
            elif isinstance(ev, Finished):
                self.finished = ev
            yield ev

    def run(self, **options) -> "RunTracker":
        """Train to the end without looking at the events (sweeps, benchmarks); returns self."""
        for _ in self.events(**options):
            pass
        return self

    # -- the record --------------------------------------------------------------------------
    @property
    def record(self) -> Record:
        """The run's record (:func:`engine.train.recipes.make_record`), made once.

        Raises
        ------
        RuntimeError
            Before the run finished.
        """
        if self._record is None:
            if self.finished is None:
                raise RuntimeError("the run has not finished: it has no record yet")
            self._record = make_record(self.settings, self.data, self.finished, self.test,
                                       previous=self.previous)
        return self._record

    def recorded_model(self) -> Model:
        """The trained model carrying the run's record (the model itself, not a copy)."""
        self.model.record = self.record
        return self.model

    def save(self, runs_dir, **options) -> Path:
        """Record the finished run in the runs folder (:func:`engine.history.runs.save_run`;
        ``options``: ``now``, ``sweep``); returns its folder. Raises RunsError."""
        return save_run(runs_dir, self.settings, self.recorded_model(), self.timeline, self.log, self.finished,
                        data_description=self.data.description, **options)
