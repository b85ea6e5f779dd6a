"""Training off the GUI thread: a :class:`TrainingWorker` living in a ``QThread``.

The worker loads and prepares the data, builds the model and the mode's stepper, drives
:func:`engine.training.train` and turns its events into Qt signals. The GUI thread only
ever receives small, immutable events and *copies* of the model, so it never touches the
arrays being trained.

Threading rules
---------------
* ``stop()``, ``pause()`` and ``resume()`` are called from the GUI thread; they only set
  ``threading.Event`` flags, so they work while the worker is busy.
* Stop is checked by the engine's driver between chunks/batches. Pause is applied by a
  thin wrapper around the stepper: between two chunks the worker stops pulling from the
  mode's generator and blocks on an event (no busy loop) until resumed or stopped. Time
  spent paused is taken out of the training clock, so images per second stay honest.
* Progress signals are throttled (at most ``progress_hz`` a second); ``IterationEnd``,
  ``Evaluated`` and ``Finished`` are always delivered. Model snapshots go out at most
  ``snapshot_hz`` a second.

Use :class:`TrainingThread` to own the pair; its :meth:`TrainingThread.shutdown` stops the
run and waits for the thread (never ``QThread.terminate``).
"""
from __future__ import annotations

import math
import os
import threading
import time
import traceback
from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal, Slot

from engine.events import Evaluated, Finished, IterationEnd, Progress
from engine.model import Config, Model, Normalisation
from engine.training import train

__all__ = ["TrainingSettings", "TrainingJob", "PreparedData", "TrainingWorker", "TrainingThread",
           "Cancelled", "load_prepared", "make_model", "make_stepper"]


class Cancelled(Exception):
    """Raised inside the worker when the user asked it to stop during a long step."""


# ------------------------------------------------------------------------------------
# Settings and jobs (plain data, safe to pass between threads)
# ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrainingSettings:
    """Everything the panel lets the user choose for a run.

    Attributes
    ----------
    mode : str
        ``"article"`` (per-image SGD, the article's exact algorithm) or ``"backprop"``.
    source : str
        Data source for :func:`engine.data.load`: ``"auto"``, ``"keras"``, ``"sample"``
        or ``"local"`` (then ``path`` names a file or folder).
    path : str or None
    train_count : int
        Training images used (the first ones).
    iterations : int
        Iterations (epochs) at most.
    tol : float
        Stop when an iteration's error is at or under it (0: never).
    alpha : float
        Learning rate.
    batch : int
        Mini-batch size (backprop only).
    momentum : float
        Momentum (backprop only).
    dropout : float
        Dropout rate on the hidden layer (0: off). The article mode has one dropout only,
        its own (half the hidden units masked per image): any rate above 0 turns it on.
    kernels, kernel_size, hidden : int
        The architecture (see :class:`engine.model.Config`).
    seed : int
        Seed of the initial weights and of the mode's random draws.
    biases : bool
        Dense-layer biases (the backprop mode's models may have them; the article has none).
    loss : str
        Backprop loss (``"mse"``, ``"xent"``); ignored by the article mode.
    augment : bool
        Backprop data augmentation; ignored by the article mode.
    schedule : str
        Backprop learning-rate schedule (``"cosine"``, ``"step"``, ``"constant"``).
    """

    mode: str = "article"
    source: str = "auto"
    path: str | None = None
    train_count: int = 20000
    iterations: int = 50
    tol: float = 0.1
    alpha: float = 0.01
    batch: int = 32
    momentum: float = 0.9
    dropout: float = 0.0
    kernels: int = 9
    kernel_size: int = 8
    hidden: int = 100
    seed: int = 0
    biases: bool = False
    loss: str = "mse"
    augment: bool = False
    schedule: str = "cosine"

    @property
    def config(self) -> Config:
        return Config(kernels=int(self.kernels), kernel_size=int(self.kernel_size),
                      hidden=int(self.hidden), biases=bool(self.biases))

    @property
    def norm_kind(self) -> str:
        return "article" if self.mode == "article" else "standard"

    def data_key(self) -> tuple:
        """What decides the prepared arrays (used to reuse them between runs)."""
        return (self.source, self.path, self.norm_kind, int(self.train_count))

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class PreparedData:
    """Normalised arrays ready for a stepper.

    Attributes
    ----------
    Xtr : ndarray, (N, 28, 28)
    ytr : ndarray of int64, (N,)
    Xte : ndarray, (M, 28, 28)
    yte : ndarray of int64, (M,)
    norm : Normalisation
    description : str
        Where the data came from, for the log.
    """

    Xtr: np.ndarray
    ytr: np.ndarray
    Xte: np.ndarray
    yte: np.ndarray
    norm: Normalisation
    description: str = ""


@dataclass
class TrainingJob:
    """One run for the worker.

    Attributes
    ----------
    settings : TrainingSettings
    model : Model or None
        Weights to continue from (the worker trains a copy); ``None`` starts from the
        seeded initialisation of ``settings``.
    iterations : int or None
        Iterations in this run (``None``: ``settings.iterations``); Step uses 1.
    tol : float or None
        Tolerance of this run (``None``: ``settings.tol``).
    start_iteration : int
        Number of the first iteration (continuing runs count on).
    data : PreparedData or None
        Ready data (tests, benchmarks); else loaded from ``settings``.
    stepper_factory : callable or None
        ``(model, data, settings) -> stepper`` to replace :func:`make_stepper` (tests).
    """

    settings: TrainingSettings
    model: Model | None = None
    iterations: int | None = None
    tol: float | None = None
    start_iteration: int = 0
    data: PreparedData | None = None
    stepper_factory: Callable | None = None


# ------------------------------------------------------------------------------------
# Engine glue (no Qt; runs in the worker thread)
# ------------------------------------------------------------------------------------
def load_prepared(settings: TrainingSettings, say: Callable[[str], None] | None = None,
                  should_stop: Callable[[], bool] | None = None) -> PreparedData:
    """Load and normalise the data ``settings`` names (slow: call off the GUI thread).

    ``should_stop()`` is polled during a Keras download; when it returns True the
    download is cancelled and :class:`Cancelled` raised.
    """
    from engine import data as edata
    say = say or (lambda s: None)
    should_stop = should_stop or (lambda: False)

    def progress(done, total):
        return not should_stop()

    say(f"loading data ({settings.source})...")
    path = settings.path or None
    try:
        ds = edata.load(settings.source, path, progress=progress)
    except edata.DownloadError:
        if should_stop():
            raise Cancelled() from None
        raise
    if should_stop():
        raise Cancelled()
    say("preparing data...")
    Xtr, ytr, Xte, yte, norm = edata.prepare(ds, settings.norm_kind, int(settings.train_count))
    desc = getattr(ds, "description", "") or settings.source
    return PreparedData(Xtr, np.asarray(ytr), Xte, np.asarray(yte), norm,
                        f"{desc}; using {len(Xtr):,} training and {len(Xte):,} test images")


def _backprop_dtype(settings: TrainingSettings):
    try:
        from engine.backprop import DEFAULTS
        return np.dtype(DEFAULTS.get("dtype", "float32"))
    except Exception:
        return np.dtype(np.float32)


def make_model(settings: TrainingSettings, norm: Normalisation) -> Model:
    """A freshly initialised model for ``settings`` (the article's init in article mode)."""
    cfg = settings.config
    if settings.mode == "article":
        return Model.article_init(cfg, np.random.RandomState(int(settings.seed)), norm)
    return Model.scaled_init(cfg, np.random.default_rng(int(settings.seed)), norm,
                             dtype=_backprop_dtype(settings))


def make_stepper(model: Model, data: PreparedData, settings: TrainingSettings, *,
                 chunk: int = 256):
    """The mode's stepper over ``data`` (the article's or the backprop one)."""
    if settings.mode == "article":
        from engine.article import ArticleStepper, article_rng
        return ArticleStepper(model, data.Xtr, data.ytr, alpha=float(settings.alpha),
                              dropout=float(settings.dropout) > 0,
                              rng=article_rng(model.config, int(settings.seed)), chunk=int(chunk))
    if settings.mode == "backprop":
        from engine.backprop import BackpropStepper
        return BackpropStepper(model, data.Xtr, data.ytr, alpha=float(settings.alpha),
                               batch=int(settings.batch), momentum=float(settings.momentum),
                               loss=settings.loss, schedule=settings.schedule,
                               dropout=float(settings.dropout),
                               augment=bool(settings.augment), seed=int(settings.seed),
                               dtype=model.dtype, epochs_hint=int(settings.iterations))
    raise ValueError(f"unknown training mode {settings.mode!r}: use 'article' or 'backprop'")


class _PausableStepper:
    """Wrap a stepper so the worker can pause between chunks without a busy loop."""

    def __init__(self, inner, worker: "TrainingWorker"):
        self._inner = inner
        self._worker = worker
        self.size = inner.size

    def epoch(self, iteration):
        for item in self._inner.epoch(iteration):
            self._worker._wait_if_paused()
            yield item


# ------------------------------------------------------------------------------------
# The worker
# ------------------------------------------------------------------------------------
class TrainingWorker(QObject):
    """Runs data loading, training and downloads in its own thread.

    Signals
    -------
    started(object)
        The :class:`TrainingJob` has begun (data being loaded).
    dataReady(str)
        Data loaded and prepared (its description).
    progress(object)
        :class:`engine.events.Progress`, at most ``progress_hz`` a second.
    iterationEnded(object)
        :class:`engine.events.IterationEnd` (always delivered).
    evaluated(object)
        :class:`engine.events.Evaluated` (always delivered).
    snapshot(object)
        A copy of the model being trained, at most ``snapshot_hz`` a second and after
        every iteration.
    finished(object, object)
        ``(Finished, model)``: the trained model (the GUI may keep it; the worker no
        longer touches it).
    failed(str)
        An exception ended the job; the message is for a dialog.
    status(str)
        A short message (loading, pausing...).
    pausedChanged(bool)
    downloadProgress(int, int)
        ``(done, total)`` bytes of a download (``total`` 0 when unknown).
    downloadFinished(bool, str)
        ``(ok, message)``.
    """

    started = Signal(object)
    dataReady = Signal(str)
    progress = Signal(object)
    iterationEnded = Signal(object)
    evaluated = Signal(object)
    snapshot = Signal(object)
    finished = Signal(object, object)
    failed = Signal(str)
    status = Signal(str)
    pausedChanged = Signal(bool)
    downloadProgress = Signal(int, int)
    downloadFinished = Signal(bool, str)

    #: Images per kernel call in the article mode: the stop/pause granularity, and how long
    #: the worker holds the GIL at a stretch while the article's kernel does (a few ms).
    DEFAULT_CHUNK = 64

    def __init__(self, progress_hz: float = 20.0, snapshot_hz: float = 4.0,
                 chunk: int | None = None):
        super().__init__()
        self.progress_interval = 1.0 / progress_hz
        self.snapshot_interval = 1.0 / snapshot_hz
        self.chunk = int(chunk or self.DEFAULT_CHUNK)
        self._stop = threading.Event()
        self._running = threading.Event()      # set = not paused
        self._running.set()
        self._busy = threading.Event()
        self._paused_total = 0.0
        self._cache_key = None
        self._cache: PreparedData | None = None

    # -- called from any thread ----------------------------------------------------
    def stop(self) -> None:
        """Ask the current job to stop (takes effect within one chunk/batch)."""
        self._stop.set()
        self._running.set()

    def pause(self) -> None:
        """Pause after the current chunk/batch."""
        if self._busy.is_set() and self._running.is_set():
            self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def is_paused(self) -> bool:
        return not self._running.is_set()

    def is_busy(self) -> bool:
        return self._busy.is_set()

    def forget_data(self) -> None:
        """Drop the cached prepared data (the next run loads it again)."""
        self._cache_key = None
        self._cache = None

    # -- worker thread -------------------------------------------------------------
    def _wait_if_paused(self) -> None:
        if self._running.is_set():
            return
        t0 = time.perf_counter()
        self.pausedChanged.emit(True)
        self.status.emit("paused")
        self._running.wait()                    # blocks; resume() or stop() sets it
        self._paused_total += time.perf_counter() - t0
        self.pausedChanged.emit(False)
        if not self._stop.is_set():
            self.status.emit("resumed")

    def _clock(self) -> float:
        return time.perf_counter() - self._paused_total

    def _data_for(self, job: TrainingJob) -> PreparedData:
        if job.data is not None:
            return job.data
        key = job.settings.data_key()
        if self._cache is not None and self._cache_key == key:
            return self._cache
        data = load_prepared(job.settings, self.status.emit, self._stop.is_set)
        self._cache_key, self._cache = key, data
        return data

    @Slot(object)
    def run(self, job: TrainingJob) -> None:
        """Run one :class:`TrainingJob` to its end (in the worker thread)."""
        self._busy.set()
        self._running.set()
        self._paused_total = 0.0
        model = None
        try:
            self.started.emit(job)
            s = job.settings
            data = self._data_for(job)
            if self._stop.is_set():
                raise Cancelled()
            self.dataReady.emit(data.description)
            if job.model is not None:
                model = job.model.copy()
                if job.model.config != s.config:
                    raise ValueError("the model to continue has another architecture than the settings")
                if s.mode == "article" and model.dtype != np.float64:
                    model = model.astype(np.float64)
                if model.norm.kind != data.norm.kind:   # another mode's input scale
                    model.norm = data.norm
            else:
                model = make_model(s, data.norm)
            factory = job.stepper_factory or (lambda m, d, st: make_stepper(m, d, st, chunk=self.chunk))
            stepper = _PausableStepper(factory(model, data, s), self)
            iterations = s.iterations if job.iterations is None else job.iterations
            tol = s.tol if job.tol is None else job.tol
            self.status.emit("training...")
            last_snap = 0.0
            gen = train(model, stepper, max_iter=int(iterations), tol=float(tol) if tol else None,
                        stop=self._stop, test=(data.Xte, data.yte), report_seconds=self.progress_interval,
                        pooled_tanh_at_test=(s.mode != "article"),
                        start_iteration=int(job.start_iteration), clock=self._clock)
            for ev in gen:
                if isinstance(ev, Progress):
                    self.progress.emit(ev)
                    now = time.perf_counter()
                    if now - last_snap >= self.snapshot_interval:
                        last_snap = now
                        self.snapshot.emit(model.copy())
                elif isinstance(ev, IterationEnd):
                    self.iterationEnded.emit(ev)
                    last_snap = time.perf_counter()
                    self.snapshot.emit(model.copy())
                elif isinstance(ev, Evaluated):
                    self.evaluated.emit(ev)
                elif isinstance(ev, Finished):
                    self.finished.emit(ev, model)
        except Cancelled:
            self.finished.emit(Finished("stopped", 0, math.nan, 0.0, 0, "stopped before training began"),
                               None)
        except Exception as exc:  # reaches the window as a dialog
            detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            self.failed.emit(f"Training failed: {detail}")
            self.finished.emit(Finished("failed", 0, math.nan, 0.0, 0, detail), None)
        finally:
            self._running.set()
            self._busy.clear()

    @Slot(object)
    def _go_home(self, thread) -> None:
        """Move back to ``thread`` (pushed from the worker's own thread, as Qt requires),
        then end this thread's event loop."""
        here = QThread.currentThread()
        self.moveToThread(thread)
        here.quit()

    @Slot()
    def download(self) -> None:
        """Download MNIST through Keras (in the worker thread), reporting progress."""
        self._busy.set()
        try:
            from engine import data as edata

            def progress(done, total):
                self.downloadProgress.emit(int(done), int(total or 0))
                return not self._stop.is_set()

            self.status.emit("downloading MNIST through Keras...")
            try:
                result = edata.download_keras(progress=progress)
            except edata.DownloadError:
                if self._stop.is_set():
                    raise Cancelled() from None
                raise
            self.forget_data()
            where = f" to {result}" if isinstance(result, (str, os.PathLike)) else ""
            self.downloadFinished.emit(True, f"MNIST downloaded{where}")
        except Cancelled:
            self.downloadFinished.emit(False, "download cancelled")
        except Exception as exc:
            detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            self.downloadFinished.emit(False, f"Download failed: {detail}")
        finally:
            self._busy.clear()


class TrainingThread(QObject):
    """Owns a :class:`TrainingWorker` and the ``QThread`` it lives in.

    Jobs are sent with queued signals, so :meth:`submit` returns at once. The thread is
    started on first use and lives until :meth:`shutdown`.
    """

    _runRequested = Signal(object)
    _downloadRequested = Signal()
    _homeRequested = Signal(object)

    def __init__(self, parent=None, **worker_options):
        super().__init__(parent)
        self.worker = TrainingWorker(**worker_options)
        self._thread: QThread | None = None
        self._connected = False

    def _ensure(self) -> None:
        if self._thread is None:
            self._thread = QThread()
            self._thread.setObjectName("digitlab-training")
            self.worker.moveToThread(self._thread)
            if not self._connected:
                self._runRequested.connect(self.worker.run)
                self._downloadRequested.connect(self.worker.download)
                self._homeRequested.connect(self.worker._go_home)
                self._connected = True
            self._thread.start()

    def submit(self, job: TrainingJob) -> None:
        """Start ``job`` in the worker thread (the worker must be idle)."""
        self._ensure()
        self.worker._stop.clear()
        self.worker._busy.set()        # busy from now, not from when the thread picks it up
        self._runRequested.emit(job)

    def download(self) -> None:
        self._ensure()
        self.worker._stop.clear()
        self.worker._busy.set()
        self._downloadRequested.emit()

    def is_running(self) -> bool:
        return self._thread is not None and self._thread.isRunning()

    def shutdown(self, timeout_ms: int | None = None) -> bool:
        """Stop any job, end the thread's event loop and wait for it. Returns True if it ended.

        The worker moves back to the calling thread first, so a later :meth:`submit` can
        start a new thread.
        """
        self.worker.stop()
        if self._thread is None:
            return True
        # queued after the running job: the worker moves back here, then ends the loop
        self._homeRequested.emit(QThread.currentThread())
        ok = self._thread.wait() if timeout_ms is None else self._thread.wait(timeout_ms)
        if ok:
            self._thread = None
        return bool(ok)
