"""The Train dock: the settings form, the run control and the live plots.

The panel runs :func:`app.jobs.training_job` in a :class:`app.worker.GeneratorWorker` and
shows its events. It holds no model of its own: it continues and replaces the model of the
window's :class:`app.model_owner.ModelOwner`, sends it live snapshots while a run trains,
and hands it the trained model when the run ends.
"""
from __future__ import annotations

import math
import re
import time

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtWidgets import (QGridLayout, QHBoxLayout, QLabel, QPlainTextEdit, QProgressBar,
                               QPushButton, QScrollArea, QSplitter, QVBoxLayout, QWidget)

from engine.events import Evaluated, IterationEnd, Progress
from engine.model import Model, Normalisation
from engine.recipes import PRESETS, RunSettings, make_record
from engine.runs import default_runs_dir

from .jobs import (DataCache, DataReady, DownloadEnded, DownloadProgress, RunEnded, RunRequest,
                   Snapshot, Status, download_job, training_job)
from .model_owner import ModelOwner
from .prompts import Prompts
from .settings_form import SettingsForm
from .training_plots import TrainingPlots, counted, singular_ones, unit_of
from .worker import GeneratorWorker

__all__ = ["TrainingPanel", "fresh_model"]


def fresh_model(settings: RunSettings, norm: Normalisation | None = None) -> Model:
    """The seeded initial weights of a run of ``settings`` (what Start begins from)."""
    import numpy as np
    cfg = settings.config
    if settings.mode == "article":
        m = Model.article_init(cfg, np.random.RandomState(int(settings.seed)), norm)
    else:
        m = Model.scaled_init(cfg, np.random.default_rng(int(settings.seed)), norm, settings.dtype)
    m.name = f"fresh {settings.mode}-k{cfg.kernels}f{cfg.kernel_size}h{cfg.hidden}"
    return m


def _fmt_time(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    h, rem = divmod(int(round(seconds)), 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


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
        Passed to each :class:`app.jobs.RunRequest`.
    """

    trainingStarted = Signal()
    trainingStopped = Signal()
    eventShown = Signal(object)
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
        self.report_seconds = 0.05
        self.snapshot_seconds = 0.25
        self.runs_dir = default_runs_dir()   # where runs are recorded (None: not recorded)
        self.quiet = False                 # no messages (the window is closing)
        self._job: str | None = None       # "run", "download" or None
        self._request: RunRequest | None = None
        self._last_test = None
        self._t0 = 0.0
        self._cache = DataCache()
        self.worker = GeneratorWorker((Progress, DownloadProgress), updates_per_second, parent=self)
        self.worker.event.connect(self._on_event)
        self.worker.failed.connect(self._on_failed)
        self.worker.finished.connect(self._on_worker_finished)
        self.worker.pausedChanged.connect(self._on_paused)
        self._build()
        owner.modelChanged.connect(self._on_model_changed)
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
        self.form.chooseFile.connect(self._choose_file)
        self.form.chooseFolder.connect(self._choose_folder)
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
        self.start_button = QPushButton("Start")
        self.start_button.setToolTip("A new run from freshly initialised weights")
        self.pause_button = QPushButton("Pause")
        self.stop_button = QPushButton("Stop")
        self.step_button = QPushButton("Step")
        self.step_button.setToolTip("One more pass over the training images from the current weights "
                                    "(an iteration; an epoch in backprop mode)")
        self.reset_button = QPushButton("Reset weights")
        self.reset_button.setToolTip("Start again from freshly initialised weights (seeded)")
        for b, slot in ((self.start_button, self.start), (self.pause_button, self.toggle_pause),
                        (self.stop_button, self.stop), (self.step_button, self.step),
                        (self.reset_button, self.reset_weights)):
            b.clicked.connect(lambda _c=False, f=slot: f())
        grid.addWidget(self.start_button, 0, 0)
        grid.addWidget(self.pause_button, 0, 1)
        grid.addWidget(self.stop_button, 0, 2)
        grid.addWidget(self.step_button, 1, 0)
        grid.addWidget(self.reset_button, 1, 1, 1, 2)
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
        """Show preset ``name`` of :data:`engine.recipes.PRESETS`, on the data chosen now."""
        here = {"source": self.form.value("source"), "path": self.form.value("path")}
        self.form.set_settings(PRESETS[name].replace(**here))

    def _choose_file(self) -> None:
        path = self.prompts.open_file("MNIST file", self.form.value("path") or "",
                                      "MNIST (*.npz *.gz *-ubyte);;All files (*)")
        if path:
            self.form.set_path(path)

    def _choose_folder(self) -> None:
        path = self.prompts.folder("Folder of MNIST IDX files", self.form.value("path") or "")
        if path:
            self.form.set_path(path)

    # ================================================================ state
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
        if not self.owner.replace(fresh_model(s, norm), question="Reset the weights anyway?"):
            return False
        self.plots.clear()
        self._log(f"weights reset to a fresh initialisation (seed {s.seed})")
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
        self._log("downloading MNIST through Keras…")
        self._begin("download", download_job)
        return True

    def shutdown(self, timeout: float = 5.0) -> bool:
        """Stop any job, quit the worker's thread and wait for it at most ``timeout`` seconds.

        Returns True when the thread has ended; the job's last events have then been shown
        (a stopped run's model handed to the owner). False: the job is still busy (a data
        load or compile that cannot be interrupted); nothing is forced, and the thread
        ends once it returns. A later Start opens the thread again.
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
        self._last_test = None
        s = request.settings
        self.plots.set_mode(s.mode)
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat("loading data…")
        what = f"step: one {unit_of(request.settings.mode)}" if request.epochs == 1 else "run"
        self._log(f"— {what}: {singular_ones(s.describe())}")
        self.owner.set_training(True)
        self._begin("run", lambda ctl: training_job(request, ctl, self._cache))
        return True

    def _begin(self, job: str, work) -> None:
        self._job = job
        self._t0 = time.perf_counter()
        self._update_buttons()
        self.trainingStarted.emit()
        self.worker.start(work)

    def _unit(self) -> str:
        """What an iteration is called in the current run's mode: an epoch in backprop mode."""
        r = self._request
        return unit_of(r.settings.mode if r is not None else "article")

    def _said(self, message: str) -> str:
        """The run's closing message in this mode's unit word, with correct plurals."""
        unit = self._unit()
        message = re.sub(r"\biteration(s?)\b", lambda m: unit + m.group(1), message)
        return singular_ones(message)

    def _on_event(self, ev) -> None:
        if isinstance(ev, Progress):
            self._show_progress(ev)
        elif isinstance(ev, IterationEnd):
            self.plots.add_iteration(ev)
            extra = f", loss {ev.loss:.5f}" if not math.isclose(ev.loss, ev.train_error) else ""
            self._log(f"{self._unit()} {ev.iteration}: training error {ev.train_error:.5f}{extra} "
                      f"({ev.seconds:.1f} s, {ev.images_per_second:,.0f} img/s)")
        elif isinstance(ev, Evaluated):
            f = ev.figures
            self._last_test = f
            self.plots.add_test(ev.iteration, f)
            self._log(f"    test error {f.test_error:.5f}, arg-max accuracy {f.argmax_accuracy:.2f}%, "
                      f"percent correct (article's rule) {f.percent_correct:.2f}%")
        elif isinstance(ev, Snapshot):
            self.owner.set_live(ev.model)      # its modelChanged redraws the kernels
        elif isinstance(ev, RunEnded):
            self._run_ended(ev)
        elif isinstance(ev, DownloadProgress):
            self._show_download(ev)
        elif isinstance(ev, DownloadEnded):
            self._download_ended(ev)
        elif isinstance(ev, DataReady):
            self._log(ev.description)
            self.progress_bar.setFormat("training…")
        elif isinstance(ev, Status):
            self.statusMessage.emit(ev.text)
        self.eventShown.emit(ev)

    def _show_progress(self, ev: Progress) -> None:
        r = self._request
        start = r.start_iteration if r else 0
        end = start + (r.epochs or r.settings.epochs) if r else ev.iteration + 1
        frac = (ev.iteration - start + ev.done / max(ev.total, 1)) / max(end - start, 1)
        self.progress_bar.setValue(int(1000 * min(max(frac, 0.0), 1.0)))
        left = ((end - ev.iteration) * ev.total - ev.done) / ev.images_per_second \
            if ev.images_per_second > 0 else math.inf
        at_most = " at most" if r and r.settings.tol and r.epochs != 1 else ""
        unit = self._unit()
        self.progress_bar.setFormat(f"{ev.iteration + 1}/{end} · {ev.images_per_second:,.0f} img/s · "
                                    f"{_fmt_time(left)} left")      # short: fits a narrow bar
        self.progress_bar.setToolTip(f"{unit} {ev.iteration + 1} of {end}{at_most}, "
                                     f"{ev.images_per_second:,.0f} images a second, {_fmt_time(left)} left")
        self.plots.add_progress(ev)

    def _run_ended(self, ev: RunEnded) -> None:
        fin, model, r = ev.finished, ev.model, self._request
        self.owner.set_training(False)
        if model is not None and fin.reason != "failed" and (fin.iterations > 0 or fin.images > 0):
            previous = r.model.record if r.model is not None else None
            model.record = make_record(r.settings, ev.data, fin, self._last_test, previous=previous)
            model.name = (f"trained in the window ({r.settings.mode}, "
                          f"{counted(model.record.iterations, unit_of(r.settings.mode))})")
            self.owner.set_model(model, unsaved=True)
        self.progress_bar.setFormat(f"{fin.reason.replace('_', ' ')} · {counted(fin.iterations, self._unit())} · "
                                    f"{fin.images_per_second:,.0f} img/s")
        if fin.reason in ("max_iter", "converged"):
            self.progress_bar.setValue(1000)
        err = f"{fin.train_error:.5f}" if math.isfinite(fin.train_error) else "–"
        unit = self._unit()
        said = self._said(fin.message)
        ran = counted(fin.iterations, unit)
        summary = (f"{said[:1].upper()}{said[1:]}" + ("" if ran in said else f". {ran}")
                   + f", training error of the last complete {unit} {err}")
        if self._last_test is not None:
            t = self._last_test
            summary += (f", test error {t.test_error:.5f}, arg-max accuracy {t.argmax_accuracy:.2f}%, "
                        f"percent correct {t.percent_correct:.2f}%")
        summary += (f"; training {fin.seconds:.1f} s ({fin.images_per_second:,.0f} img/s), "
                    f"{time.perf_counter() - self._t0:.1f} s in all.")
        self._log(summary)
        self.statusMessage.emit(summary)
        if fin.reason == "diverged":
            self._note("Training diverged", f"{fin.message[:1].upper()}{fin.message[1:]}")

    def _show_download(self, ev: DownloadProgress) -> None:
        if ev.total > 0:
            self.progress_bar.setRange(0, 1000)
            self.progress_bar.setValue(int(1000 * ev.done / ev.total))
            self.progress_bar.setFormat(f"downloading MNIST: {ev.done / 1e6:.1f} of {ev.total / 1e6:.1f} MB")
        else:
            self.progress_bar.setFormat(f"downloading MNIST: {ev.done / 1e6:.1f} MB")

    def _download_ended(self, ev: DownloadEnded) -> None:
        if ev.ok:
            self._cache.forget()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setValue(1000 if ev.ok else 0)
        short = ("MNIST downloaded" if ev.ok else "download cancelled" if "cancelled" in ev.message
                 else "download failed: see the log")       # (one short line: the bar holds no more)
        self.progress_bar.setFormat(short)
        self.progress_bar.setToolTip(ev.message)
        self._log(ev.message)
        self.statusMessage.emit(ev.message)
        if not ev.ok and "cancelled" not in ev.message:
            self._note("Download failed", ev.message)

    def _on_failed(self, message: str) -> None:
        text = f"Training failed: {message}" if self._job == "run" else message
        self._log(text)
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
        self._log("paused" if paused else "resumed")
        if paused:
            self.progress_bar.setFormat(self.progress_bar.format().split(" ·")[0] + " · paused")
        self.pausedChanged.emit(paused)

    def _note(self, title: str, text: str) -> None:
        if not self.quiet:
            self.prompts.note(title, text, warning=True)

    def _log(self, text: str) -> None:
        self.log.appendPlainText(text)
