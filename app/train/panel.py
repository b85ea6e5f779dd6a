"""The Train dock: the settings form, the run control and the live plots (paced while a run is on).

The panel runs :func:`app.train.run_jobs.training_job` in a :class:`app.threads.jobs.GeneratorJob` and
shows its events. It holds no model of its own: it continues and replaces the model of the window's
:class:`app.model_owner.ModelOwner`, sends it live snapshots while a run trains, and hands it the
trained model when the run ends."""
from __future__ import annotations

import time

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtWidgets import (QGridLayout, QHBoxLayout, QLabel, QPlainTextEdit, QProgressBar,
                               QPushButton, QScrollArea, QSplitter, QVBoxLayout, QWidget)

from engine.history.runs import default_runs_dir
from engine.net.model import Normalisation
from engine.train.events import Evaluated, IterationEnd, Progress
from engine.train.recipes import PRESETS, RunSettings, initial_model

from . import words
from ..model_owner import ModelOwner
from ..prompts import Prompts
from ..threads.jobs import GeneratorJob
from .settings_form import SettingsForm
from .run_jobs import (DataCache, DataReady, DownloadEnded, DownloadProgress, RunEnded, RunRecorded,
                            RunRequest, Snapshot, Status, download_job, training_job)
from .plots import TrainingPlots

__all__ = ["TrainingPanel"]


class TrainingPanel(QWidget):
    """Train a network inside the window and watch it learn.

    Parameters
    ----------
    owner : ModelOwner
        The window's model: Step continues it, a finished run replaces it.
    prompts : Prompts, optional
        Questions and messages (default: dialogs parented to the panel).

    Signals
    -------
    trainingStarted(), trainingStopped()
        A run or a download began / ended (its last event has been shown).
    eventShown(object)
        Every event of the worker, once the panel has shown it.
    runRecorded(object)
        A run's :class:`app.train.run_jobs.RunRecorded`: its timeline and the folder it went to.
    runEnded(object)
        A run's :class:`app.train.run_jobs.RunEnded`, once the trained model went to the owner.
    pausedChanged(bool)
    statusMessage(str)
        For the status bar.

    Attributes
    ----------
    data_override : PreparedData or None
        Ready data to train on instead of loading them (tests, benchmarks).
    stepper_factory : callable or None
        ``(model, data, settings) -> stepper`` in place of the mode's (tests).
    chunk, report_seconds, snapshot_seconds
        Passed to each :class:`app.train.run_jobs.RunRequest`.
    """

    trainingStarted = Signal()
    trainingStopped = Signal()
    eventShown = Signal(object)
    runRecorded = Signal(object)
    runEnded = Signal(object)
    pausedChanged = Signal(bool)
    statusMessage = Signal(str)

    def __init__(self, owner: ModelOwner, prompts: Prompts | None = None, parent=None,
                 *, updates_per_second: float = 10.0):
        super().__init__(parent)
        self.owner = owner
        self.prompts = prompts or Prompts(self)
        self.data_override = None
        self.stepper_factory = None
        self.chunk = 64
        self.report_seconds = RunRequest.report_seconds      # (their home: RunRequest)
        self.snapshot_seconds = RunRequest.snapshot_seconds
        self.runs_dir = default_runs_dir()   # where runs are recorded (None: not recorded)
        self.quiet = False                 # no messages (the window is closing)
        self._job: str | None = None       # "run", "download" or None
        self._request: RunRequest | None = None
        self._t0 = 0.0
        self._cache = DataCache()
        self.worker = GeneratorJob((Progress, DownloadProgress), updates_per_second, parent=self)
        self.worker.yielded.connect(self._on_event)
        self.worker.errored.connect(self._on_failed)
        self.worker.finished.connect(self._on_worker_finished)
        self.worker.pausedChanged.connect(self._on_paused)
        self._handlers = {                 # what each event of the worker does here
            Progress: self._show_progress, IterationEnd: self._iteration_ended,
            Evaluated: self._evaluated, Snapshot: lambda ev: self.owner.set_live(ev.model),
            RunRecorded: self.runRecorded.emit, RunEnded: self._run_ended,
            DownloadProgress: self._show_download, DownloadEnded: self._download_ended,
            DataReady: self._data_ready, Status: lambda ev: self.statusMessage.emit(ev.text)}
        self._build()
        owner.modelChanged.connect(self._on_model_changed)
        owner.stateChanged.connect(lambda: self.plots.set_paced(owner.is_training()))
        self._on_model_changed(owner.view_model())
        self._update_buttons()

    # ================================================================ construction
    def _build(self) -> None:
        outer = QHBoxLayout(self)
        outer.setContentsMargins(2, 2, 2, 2)
        split = self._split = QSplitter(Qt.Horizontal, self)
        split.setChildrenCollapsible(False)
        outer.addWidget(split)
        split.addWidget(self._build_controls())
        split.addWidget(self._build_views())
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        split.setSizes([300, 900])
        self._narrow = False

    def fit_width(self, width: int) -> None:
        """Lay the panel out for ``width`` pixels: the settings beside the plots when both
        fit, else above them (the plots in one column when two do not fit)."""
        views_min = 2 * self.plots.PLOT_MIN_WIDTH + 24
        narrow = width < self._column_width + views_min
        # above the settings, two plots a row only where each gets a readable width
        self.plots.set_columns(1 if narrow and width < 560 else 2)
        if narrow == self._narrow:
            return
        self._narrow = narrow
        c = self._column
        self._presets_row.setDirection(QHBoxLayout.TopToBottom if narrow else QHBoxLayout.LeftToRight)
        if narrow:
            self._split.setOrientation(Qt.Vertical)
            c.setMinimumWidth(0)
            c.setMaximumWidth(16777215)
            self._form_scroll.setMinimumHeight(self.NARROW_FORM_HEIGHT)
            self._split.setStretchFactor(0, 0)
            self._split.setSizes([self.NARROW_FORM_HEIGHT + 80, 10 ** 4])
        else:
            self._split.setOrientation(Qt.Horizontal)
            c.setMinimumWidth(self._column_width)
            c.setMaximumWidth(self._column_width + 60)
            self._form_scroll.setMinimumHeight(0)
            self._split.setSizes([300, 900])

    def wide_width(self) -> int:
        """The width the panel wants for the settings beside the plots, two a row, each
        wide enough to read (the confusion matrix's title and ten columns)."""
        return self._column_width + 2 * self.plots.PLOT_READABLE_WIDTH + 30

    NARROW_FORM_HEIGHT = 150
    """Height of the settings (they scroll) when they sit above the plots."""

    def _build_controls(self) -> QWidget:
        box = QWidget()
        lay = QVBoxLayout(box)
        lay.setContentsMargins(4, 4, 4, 4)
        presets = self._presets_row = QHBoxLayout()      # (narrow: the label above the buttons)
        presets.addWidget(QLabel("Presets:"))
        buttons = QHBoxLayout()
        self.preset_buttons = {}
        for name, s in PRESETS.items():
            b = QPushButton(name)
            b.setToolTip(s.describe())
            b.clicked.connect(lambda _c=False, n=name: self.apply_preset(n))
            buttons.addWidget(b)
            self.preset_buttons[name] = b
        presets.addLayout(buttons)
        lay.addLayout(presets)
        self.form = SettingsForm()
        self.form.chooseFile.connect(lambda: self._choose_data(folder=False))
        self.form.chooseFolder.connect(lambda: self._choose_data(folder=True))
        self.form.download_button.clicked.connect(self.download_mnist)
        lay.addWidget(self.form, 1)
        scroll = self._form_scroll = QScrollArea()
        scroll.setWidget(box)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        scroll.setFrameShape(QScrollArea.NoFrame)
        column = self._column = QWidget()
        cl = QVBoxLayout(column)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.addWidget(scroll, 1)
        cl.addLayout(self._build_buttons())
        width = box.sizeHint().width() + scroll.verticalScrollBar().sizeHint().width() + 4
        column.setMinimumWidth(width)
        column.setMaximumWidth(width + 60)
        self._column_width = width
        return column

    def _build_buttons(self) -> QGridLayout:
        grid = QGridLayout()
        for name, text, slot, tip, place in (
                ("start", "Start", self.start, "A new run from freshly initialised weights", (0, 0)),
                ("pause", "Pause", self.toggle_pause, "", (0, 1)), ("stop", "Stop", self.stop, "", (0, 2)),
                ("step", "Step", self.step, words.STEP_TIP, (1, 0)),
                ("reset", "Reset weights", self.reset_weights,
                 "Start again from freshly initialised weights (seeded)", (1, 1, 1, 2))):
            b = QPushButton(text)
            b.setToolTip(tip)
            b.clicked.connect(lambda _c=False, f=slot: f())
            grid.addWidget(b, *place)
            setattr(self, f"{name}_button", b)
        return grid

    def _build_views(self) -> QWidget:
        box = QWidget()
        lay = QVBoxLayout(box)
        lay.setContentsMargins(4, 4, 4, 4)
        top = QHBoxLayout()
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setTextVisible(True)
        self.progress_bar.setFormat("idle")
        top.addWidget(self.progress_bar, 1)
        self.probe_label = QLabel("drawing: –")
        self.probe_label.setToolTip("How the model being trained reads your drawing")
        self.probe_label.setMinimumWidth(150)
        top.addWidget(self.probe_label)
        lay.addLayout(top)
        vsplit = QSplitter(Qt.Vertical)
        self.plots = TrainingPlots()
        vsplit.addWidget(self.plots)
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(5000)
        self.log.setPlaceholderText("Training log")
        vsplit.addWidget(self.log)
        vsplit.setStretchFactor(0, 4)
        vsplit.setStretchFactor(1, 1)
        lay.addWidget(vsplit, 1)
        return box

    # ================================================================ settings
    def settings(self) -> RunSettings:
        """The settings the form shows (ValueError if they do not make a run)."""
        return self.form.settings()

    def apply_settings(self, s: RunSettings) -> None:
        self.form.set_settings(s)

    def apply_preset(self, name: str) -> None:
        """Show preset ``name`` of :data:`engine.train.recipes.PRESETS`, on the data chosen now."""
        here = {"source": self.form.value("source"), "path": self.form.value("path")}
        self.form.set_settings(PRESETS[name].replace(**here))

    def _choose_data(self, folder: bool) -> None:
        start = self.form.value("path") or ""
        path = (self.prompts.folder("Folder of MNIST IDX files", start) if folder else
                self.prompts.open_file("MNIST file", start, "MNIST (*.npz *.gz *-ubyte);;All files (*)"))
        if path:
            self.form.set_path(path)

    def is_training(self) -> bool:
        return self._job == "run"

    def is_busy(self) -> bool:
        """A run or a download is in progress (its thread may still be finishing)."""
        return self._job is not None

    def is_paused(self) -> bool:
        return self.worker.is_paused()

    def _update_buttons(self) -> None:
        busy = self.is_busy()
        self.form.setEnabled(not busy)
        for w in (*self.preset_buttons.values(), self.start_button, self.step_button,
                  self.reset_button):
            w.setEnabled(not busy)
        self.pause_button.setEnabled(self._job == "run")
        self.stop_button.setEnabled(busy)
        if not busy:
            self.pause_button.setText("Pause")

    def show_reading(self, proba) -> None:
        """How the model that reads the drawing reads it: probabilities ``(10,)`` or None."""
        if proba is None:
            self.probe_label.setText("drawing: –")
            return
        d = int(max(range(10), key=lambda i: proba[i]))
        self.probe_label.setText(f"drawing: {d} ({100 * float(proba[d]):.0f}%)")

    def _on_model_changed(self, model) -> None:
        if model is not None:
            self.plots.show_kernels(model)

    # ================================================================ actions
    def _settings_or_say(self) -> RunSettings | None:
        try:
            return self.settings()
        except ValueError as e:
            self.prompts.error("Settings", f"These settings do not make a run: {e}")
            return None

    def start(self) -> bool:
        """A new run from the settings' seeded initialisation. False if not started."""
        if self.is_busy():
            return False
        s = self._settings_or_say()
        if s is None or not self.owner.may_discard("A new run replaces it when it ends. Save it first?"):
            return False
        self.plots.clear()
        self.plots.forget_kernels()        # not the previous run's while the data load
        return self._submit(RunRequest(s))

    def step(self) -> bool:
        """One more iteration from the current weights (fresh ones if the network differs)."""
        if self.is_busy():
            return False
        s = self._settings_or_say()
        if s is None:
            return False
        current = self.owner.model()
        if current is not None and current.config == s.config:
            done = current.record.iterations if current.record.mode in ("", s.mode) else 0
            return self._submit(RunRequest(s, model=current, epochs=1, tol=0.0, start_iteration=done))
        if not self.owner.may_discard("Step starts from fresh weights for this network. Save it first?"):
            return False
        self.plots.clear()
        return self._submit(RunRequest(s, epochs=1, tol=0.0))

    def reset_weights(self) -> bool:
        """Replace the current model by the settings' fresh seeded weights (asks if unsaved)."""
        if self.is_busy():
            return False
        s = self._settings_or_say()
        if s is None:
            return False
        cur = self.owner.model()
        norm = cur.norm if cur is not None and cur.norm.kind == s.normalisation else \
            Normalisation(kind=s.normalisation)
        fresh = initial_model(s, norm)
        fresh.name = "fresh " + fresh.name
        if not self.owner.replace(fresh, question="Reset the weights anyway?"):
            return False
        self.plots.clear()
        self.log_line(f"weights reset to a fresh initialisation (seed {s.seed})")
        self.statusMessage.emit("weights reset")
        return True

    def stop(self) -> None:
        """Stop the run (within one chunk or batch; the weights so far are kept) or the download."""
        if not self.is_busy():
            return
        self.worker.stop()
        self.stop_button.setEnabled(False)
        self.pause_button.setEnabled(False)
        self.progress_bar.setFormat("stopping…")
        self.statusMessage.emit("stopping… (a data load or the first compile finishes first)")

    def pause(self) -> None:
        if self.is_training():
            self.worker.pause()
            self.pause_button.setText("Resume")

    def resume(self) -> None:
        self.worker.resume()
        self.pause_button.setText("Pause")

    def toggle_pause(self) -> None:
        self.resume() if self.worker.is_paused() else self.pause()

    def download_mnist(self) -> bool:
        """Download MNIST through Keras in the worker thread."""
        if self.is_busy():
            return False
        self.progress_bar.setRange(0, 0)
        self.progress_bar.setFormat("downloading MNIST…")
        self.log_line("downloading MNIST through Keras…")
        self._begin("download", download_job)
        return True

    def shutdown(self, timeout: float = 5.0) -> bool:
        """Stop any job, quit the worker's thread and wait for it at most ``timeout`` seconds.

        True when the thread has ended; the job's last events have then been shown (a stopped
        run's model handed to the owner). False: the job is still busy (a data load or compile
        that cannot be interrupted): nothing forced, it ends once it returns; Start reopens it.
        """
        if not self.worker.close(timeout):
            return False
        QCoreApplication.sendPostedEvents()      # the queued last events and finished
        return True

    # ================================================================ running
    def _submit(self, request: RunRequest) -> bool:
        request.data = self.data_override
        request.stepper_factory = self.stepper_factory
        request.chunk = self.chunk
        request.report_seconds = self.report_seconds
        request.snapshot_seconds = self.snapshot_seconds
        request.runs_dir = self.runs_dir             # (a Step too: it is a run, listed in Runs)
        self._request = request
        s = request.settings
        self.plots.set_run(s.mode, request.start_iteration + (request.epochs or s.epochs))
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat("loading data…")
        what = f"step: one {words.unit(request)}" if request.epochs == 1 else "run"
        self.log_line(f"— {what}: {words.singular_ones(s.describe())}")
        self.owner.set_training(True)
        self._begin("run", lambda ctl: training_job(request, ctl, self._cache))
        return True

    def _begin(self, job: str, work) -> None:
        self._job = job
        self._t0 = time.perf_counter()
        self._update_buttons()
        self.trainingStarted.emit()
        self.worker.start(work)

    def _on_event(self, ev) -> None:
        handler = self._handlers.get(type(ev))
        if handler is not None:
            handler(ev)
        self.eventShown.emit(ev)

    def _iteration_ended(self, ev: IterationEnd) -> None:
        self.plots.add_iteration(ev)
        self.log_line(words.iteration_line(ev, self._request))

    def _evaluated(self, ev: Evaluated) -> None:
        self.plots.add_test(ev.iteration, ev.figures)
        self.log_line(words.test_line(ev.figures))

    def _data_ready(self, ev: DataReady) -> None:
        self.log_line(ev.description)
        self.progress_bar.setFormat("training…")

    def _show_progress(self, ev: Progress) -> None:
        frac, text, tip = words.progress(ev, self._request)
        self.progress_bar.setValue(int(1000 * frac))
        self.progress_bar.setFormat(text)        # short: fits a narrow bar
        self.progress_bar.setToolTip(tip)
        self.plots.add_progress(ev)

    def _run_ended(self, ev: RunEnded) -> None:
        fin, model, r = ev.finished, ev.model, self._request
        if model is not None and fin.reason != "failed" and (fin.iterations > 0 or fin.images > 0):
            model.record = ev.record           # made once, by the run's tracker
            model.name = words.model_name(r, model.record.iterations)
            self.owner.set_model(model, unsaved=True)   # (before: the window reads once, with it)
        self.owner.set_training(False)
        bar, summary = words.ended(fin, ev.record, r, time.perf_counter() - self._t0)
        self.progress_bar.setFormat(bar)
        if fin.reason in ("max_iter", "converged"):
            self.progress_bar.setValue(1000)
        self.log_line(summary)
        self.statusMessage.emit(summary)
        if fin.reason == "diverged":
            self._note("Training diverged", f"{fin.message[:1].upper()}{fin.message[1:]}")
        self.runEnded.emit(ev)

    def _show_download(self, ev: DownloadProgress) -> None:
        frac, text = words.download(ev)
        if frac is not None:
            self.progress_bar.setRange(0, 1000)
            self.progress_bar.setValue(int(1000 * frac))
        self.progress_bar.setFormat(text)

    def _download_ended(self, ev: DownloadEnded) -> None:
        if ev.ok:
            self._cache.forget()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setValue(1000 if ev.ok else 0)
        self.progress_bar.setFormat(words.download_ended(ev))     # one short line
        self.progress_bar.setToolTip(ev.message)
        self.log_line(ev.message)
        self.statusMessage.emit(ev.message)
        if not ev.ok and "cancelled" not in ev.message:
            self._note("Download failed", ev.message)

    def _on_failed(self, message: str) -> None:
        text = f"Training failed: {message}" if self._job == "run" else message
        self.log_line(text)
        self.progress_bar.setFormat("failed")
        self._note("Training failed", text)

    def _on_worker_finished(self) -> None:
        self._job = None
        self.owner.set_training(False)
        self._update_buttons()
        self.progress_bar.setRange(0, 1000)
        self.trainingStopped.emit()

    def _on_paused(self, paused: bool) -> None:
        self.pause_button.setText("Resume" if paused else "Pause")
        self.log_line("paused" if paused else "resumed")
        if paused:
            self.progress_bar.setFormat(self.progress_bar.format().split(" ·")[0] + " · paused")
        self.pausedChanged.emit(paused)

    def _note(self, title: str, text: str) -> None:
        if not self.quiet:
            self.prompts.note(title, text, warning=True)

    def log_line(self, text: str) -> None:
        """Add a line to the training log."""
        self.log.appendPlainText(text)
