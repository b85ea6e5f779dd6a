"""The training panel: choose settings, train in a worker thread, and watch it learn.

The panel holds the controls (mode, data, sizes, rates, architecture, presets), the
buttons (Start, Pause/Resume, Stop, Step, Reset weights), a progress bar, four live views
(error curves, accuracy curves, the kernels, the confusion matrix) and a log. Training
runs in :class:`app.worker.TrainingWorker`; the panel only receives small events and
copies of the model, and every plot item is created once and then updated in place.
"""
from __future__ import annotations

import math
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QTransform
from PySide6.QtWidgets import (QApplication, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout,
                               QGraphicsItem, QGraphicsSimpleTextItem, QGridLayout, QGroupBox,
                               QHBoxLayout, QLabel, QLineEdit, QMessageBox, QPlainTextEdit,
                               QProgressBar, QPushButton, QScrollArea, QSpinBox, QSplitter,
                               QVBoxLayout, QWidget)

from engine.events import Evaluated, Finished, IterationEnd, Progress
from engine.model import Model

from .worker import PreparedData, TrainingJob, TrainingSettings, TrainingThread

__all__ = ["TrainingPanel", "ARTICLE_PRESET", "best_preset", "kernel_mosaic"]

#: The article's experiment, exactly.
ARTICLE_PRESET = TrainingSettings(mode="article", train_count=20000, iterations=50, tol=0.1,
                                  alpha=0.01, dropout=0.0, kernels=9, kernel_size=8, hidden=100,
                                  seed=0, biases=False)

_MODES = [("article", "The article's (per-image SGD)"), ("backprop", "Backprop (mini-batches)")]
_SOURCES = [("auto", "Automatic"), ("keras", "Keras MNIST"), ("sample", "Bundled sample (5,000)"),
            ("local", "Local file or folder")]


def best_preset() -> TrainingSettings:
    """The shipped model's settings (from its record), else the backprop mode's defaults."""
    try:
        from engine.backprop import DEFAULTS
    except Exception:  # pragma: no cover - the backprop mode is part of the engine
        DEFAULTS = {"epochs": 12, "alpha": 0.05, "batch": 64, "momentum": 0.9, "loss": "xent",
                    "schedule": "cosine", "dropout": 0.0, "augment": False, "seed": 0}
    d = dict(DEFAULTS)
    cfg = None
    train_count = 60000
    try:
        import engine
        shipped = engine.load_model()
        rec = shipped.record or {}
        cfg = shipped.config
        d.update({k: rec[k] for k in ("alpha", "batch", "momentum", "loss", "schedule", "augment",
                                      "seed") if rec.get(k) is not None})
        if rec.get("dropout") is not None:
            d["dropout"] = float(rec["dropout"]) if not isinstance(rec["dropout"], bool) else \
                (0.5 if rec["dropout"] else 0.0)
        for key in ("epochs", "max_iter", "iterations"):
            if rec.get(key):
                d["epochs"] = int(rec[key])
                break
        for key in ("train_images", "train_count"):
            if rec.get(key):
                train_count = int(rec[key])
                break
        mode = rec.get("mode", "backprop")
    except Exception:
        mode = "backprop"
    mode = mode if mode in ("article", "backprop") else "backprop"
    kw = dict(mode=mode, source="auto", train_count=train_count, iterations=int(d["epochs"]),
              tol=0.0, alpha=float(d["alpha"]), batch=int(d["batch"]),
              momentum=float(d["momentum"]), dropout=float(d.get("dropout") or 0.0),
              seed=int(d.get("seed", 0)), loss=str(d.get("loss", "xent")),
              schedule=str(d.get("schedule", "cosine")), augment=bool(d.get("augment", False)))
    if cfg is not None:
        kw.update(kernels=cfg.kernels, kernel_size=cfg.kernel_size, hidden=cfg.hidden,
                  biases=cfg.biases)
    return TrainingSettings(**kw)


def kernel_mosaic(K: np.ndarray, f: int) -> np.ndarray:
    """The kernels as one RGB picture: a grid of ``f x f`` tiles, 1-pixel dark borders.

    Each kernel is scaled by its own largest magnitude; positive weights are red, negative
    blue, zero white.

    Parameters
    ----------
    K : ndarray, (k, f*f)
    f : int

    Returns
    -------
    ndarray of uint8, (rows*(f+1)+1, cols*(f+1)+1, 3)
        ``cols = ceil(sqrt(k))``, ``rows = ceil(k / cols)``.
    """
    K = np.asarray(K, dtype=np.float64)
    k = K.shape[0]
    cols = int(math.ceil(math.sqrt(k)))
    rows = int(math.ceil(k / cols))
    scale = np.abs(K).max(axis=1, keepdims=True)
    v = np.divide(K, scale, out=np.zeros_like(K), where=scale > 0)
    v = np.nan_to_num(v, nan=0.0, posinf=1.0, neginf=-1.0).clip(-1, 1)
    rgb = np.empty((k, f * f, 3))
    pos, neg = np.clip(v, 0, 1), np.clip(-v, 0, 1)
    rgb[..., 0] = 1 - neg
    rgb[..., 1] = 1 - pos - neg
    rgb[..., 2] = 1 - pos
    tiles = np.full((rows * cols, f + 1, f + 1, 3), 0.25)
    tiles[:k, 1:, 1:] = rgb.reshape(k, f, f, 3)
    grid = tiles.reshape(rows, cols, f + 1, f + 1, 3).transpose(0, 2, 1, 3, 4)
    grid = grid.reshape(rows * (f + 1), cols * (f + 1), 3)
    out = np.full((rows * (f + 1) + 1, cols * (f + 1) + 1, 3), 0.25)
    out[:-1, :-1] = grid
    return (out * 255).round().astype(np.uint8)


def _fmt_time(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class TrainingPanel(QWidget):
    """Train the network inside the window and watch it learn.

    Signals
    -------
    liveModel(object)
        A snapshot copy of the model being trained (a few a second while training), for
        the drawing views to classify the user's drawing live.
    modelTrained(object)
        The trained model when a run ends (or is stopped), to become the model used for drawing.
    statusMessage(str)
        A message for the status bar.
    trainingStarted(), trainingStopped()

    Attributes
    ----------
    data_override : PreparedData or None
        Ready data to train on instead of loading ``settings().source`` (tests, benchmarks).
    stepper_factory : callable or None
        ``(model, data, settings) -> stepper`` replacing the engine's steppers (tests).
    """

    #: The running-error curve is redrawn at most this often (seconds); the progress bar
    #: follows every progress event.
    CURVE_SECONDS = 0.25

    liveModel = Signal(object)
    modelTrained = Signal(object)
    statusMessage = Signal(str)
    trainingStarted = Signal()
    trainingStopped = Signal()

    def __init__(self, parent=None, *, worker_options: dict | None = None):
        super().__init__(parent)
        self._model: Model | None = None
        self._unsaved = False
        self._training = False
        self._iterations_done = 0           # iterations behind self._model's weights
        self._arch_ok_for = None            # model the user agreed to discard
        self._probe = None
        self._probe_model = None
        self._run: dict = {}
        self._dialog: QMessageBox | None = None
        self.data_override: PreparedData | None = None
        self.stepper_factory = None
        self._thread = TrainingThread(self, **(worker_options or {}))
        self._closed = False
        w = self._thread.worker
        w.started.connect(self._on_started)
        w.dataReady.connect(self._on_data_ready)
        w.progress.connect(self._on_progress)
        w.iterationEnded.connect(self._on_iteration)
        w.evaluated.connect(self._on_evaluated)
        w.snapshot.connect(self._on_snapshot)
        w.finished.connect(self._on_finished)
        w.failed.connect(self._on_failed)
        w.status.connect(self._on_status)
        w.pausedChanged.connect(self._on_paused)
        w.downloadProgress.connect(self._on_download_progress)
        w.downloadFinished.connect(self._on_download_finished)
        self._build()
        self._reset_curves()
        self._update_buttons()
        app = QApplication.instance()
        if app is not None:      # a safety net: never leave the thread running at exit
            app.aboutToQuit.connect(self.shutdown)

    # ================================================================ construction
    def _build(self) -> None:
        outer = QHBoxLayout(self)
        outer.setContentsMargins(2, 2, 2, 2)
        split = QSplitter(Qt.Horizontal, self)
        outer.addWidget(split)
        split.addWidget(self._build_controls())
        split.addWidget(self._build_views())
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        split.setSizes([300, 900])

    def _spin(self, lo, hi, value, step=1, tip=""):
        s = QSpinBox()
        s.setRange(lo, hi)
        s.setSingleStep(step)
        s.setValue(value)
        s.setToolTip(tip)
        s.setGroupSeparatorShown(True)
        return s

    def _dspin(self, lo, hi, value, decimals, step, tip=""):
        s = QDoubleSpinBox()
        s.setRange(lo, hi)
        s.setDecimals(decimals)
        s.setSingleStep(step)
        s.setValue(value)
        s.setToolTip(tip)
        return s

    def _build_controls(self) -> QWidget:
        box = QWidget()
        lay = QVBoxLayout(box)
        lay.setContentsMargins(4, 4, 4, 4)

        presets = QHBoxLayout()
        presets.addWidget(QLabel("Presets:"))
        self.article_button = QPushButton("The article")
        self.article_button.setToolTip("The article's exact experiment: first 20,000 images, 9 kernels "
                                       "8x8, hidden 100, rate 0.01, at most 50 iterations, stop at "
                                       "error 0.1, no dropout, seed 0")
        self.best_button = QPushButton("Best")
        self.best_button.setToolTip("The settings of the model shipped with Digitlab")
        self.article_button.clicked.connect(lambda: self.apply_settings(
            ARTICLE_PRESET.__class__(**{**ARTICLE_PRESET.to_dict(),
                                        "source": self.settings().source,
                                        "path": self.settings().path})))
        self.best_button.clicked.connect(lambda: self.apply_settings(
            best_preset().__class__(**{**best_preset().to_dict(), "source": self.settings().source,
                                       "path": self.settings().path})))
        presets.addWidget(self.article_button)
        presets.addWidget(self.best_button)
        lay.addLayout(presets)

        # -- data
        g = QGroupBox("Data")
        f = QFormLayout(g)
        self.source_combo = QComboBox()
        for key, text in _SOURCES:
            self.source_combo.addItem(text, key)
        self.source_combo.setToolTip("Automatic: the chosen file or folder, else $DIGITLAB_MNIST, "
                                     "else Keras's MNIST, else the bundled sample")
        f.addRow("Source", self.source_combo)
        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText(".npz file or folder of IDX files")
        f.addRow("Path", self.path_edit)
        row = QHBoxLayout()
        self.file_button = QPushButton("File…")
        self.folder_button = QPushButton("Folder…")
        self.file_button.setToolTip("Choose a Keras-layout .npz file")
        self.folder_button.setToolTip("Choose a folder of the four MNIST IDX files")
        self.file_button.clicked.connect(self._choose_file)
        self.folder_button.clicked.connect(self._choose_folder)
        self.download_button = QPushButton("Download")
        self.download_button.setToolTip("Download MNIST through Keras into its cache (about 11 MB)")
        self.download_button.clicked.connect(self.download_mnist)
        row.addWidget(self.file_button)
        row.addWidget(self.folder_button)
        row.addWidget(self.download_button)
        f.addRow("", row)
        self.train_count_spin = self._spin(10, 60000, 20000, 1000, "Training images used (the first ones)")
        f.addRow("Training images", self.train_count_spin)
        self.source_combo.currentIndexChanged.connect(self._update_enabled)
        lay.addWidget(g)

        # -- training
        g = QGroupBox("Training")
        f = QFormLayout(g)
        self.mode_combo = QComboBox()
        for key, text in _MODES:
            self.mode_combo.addItem(text, key)
        self.mode_combo.currentIndexChanged.connect(self._update_enabled)
        f.addRow("Mode", self.mode_combo)
        self.iterations_spin = self._spin(1, 10000, 50, 1, "Iterations (epochs) at most")
        f.addRow("Iterations", self.iterations_spin)
        self.tol_spin = self._dspin(0.0, 10.0, 0.1, 4, 0.01,
                                    "Stop when an iteration's error is at or under this (0: never)")
        f.addRow("Stop at error", self.tol_spin)
        self.alpha_spin = self._dspin(1e-6, 1e6, 0.01, 6, 0.001, "Learning rate")
        f.addRow("Learning rate", self.alpha_spin)
        self.batch_spin = self._spin(1, 4096, 64, 1, "Images per update (backprop only)")
        f.addRow("Batch size", self.batch_spin)
        self.momentum_spin = self._dspin(0.0, 0.999, 0.9, 3, 0.05, "Momentum (backprop only)")
        f.addRow("Momentum", self.momentum_spin)
        self.dropout_spin = self._dspin(0.0, 0.9, 0.0, 2, 0.1,
                                        "Dropout rate on the hidden layer. The article mode has one "
                                        "dropout, its own (half the hidden units, per image): any "
                                        "rate above 0 turns it on")
        f.addRow("Dropout", self.dropout_spin)
        self.seed_spin = self._spin(0, 2**31 - 1, 0, 1, "Seed of the initial weights and random draws")
        f.addRow("Seed", self.seed_spin)
        lay.addWidget(g)

        # -- architecture
        g = QGroupBox("Network")
        f = QFormLayout(g)
        self.kernels_spin = self._spin(1, 64, 9, 1, "Number of convolution kernels")
        self.kernel_size_spin = self._spin(2, 28, 8, 1, "Side of each square kernel")
        self.hidden_spin = self._spin(1, 2000, 100, 10, "Neurons in the hidden layer")
        f.addRow("Kernels", self.kernels_spin)
        f.addRow("Kernel size", self.kernel_size_spin)
        f.addRow("Hidden size", self.hidden_spin)
        for s in (self.kernels_spin, self.kernel_size_spin, self.hidden_spin):
            s.valueChanged.connect(self._on_architecture_changed)
        lay.addWidget(g)

        lay.addStretch(1)

        # -- buttons (below the scrolling settings, always in view)
        grid = QGridLayout()
        self.start_button = QPushButton("Start")
        self.start_button.setToolTip("A new run from freshly initialised weights")
        self.pause_button = QPushButton("Pause")
        self.stop_button = QPushButton("Stop")
        self.step_button = QPushButton("Step")
        self.step_button.setToolTip("One more iteration from the current weights")
        self.reset_button = QPushButton("Reset weights")
        self.reset_button.setToolTip("Start again from freshly initialised weights (seeded)")
        self.start_button.clicked.connect(self.start)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button.clicked.connect(self.stop)
        self.step_button.clicked.connect(self.step)
        self.reset_button.clicked.connect(self.reset_weights)
        grid.addWidget(self.start_button, 0, 0)
        grid.addWidget(self.pause_button, 0, 1)
        grid.addWidget(self.stop_button, 0, 2)
        grid.addWidget(self.step_button, 1, 0)
        grid.addWidget(self.reset_button, 1, 1, 1, 2)

        scroll = QScrollArea()
        scroll.setWidget(box)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        scroll.setFrameShape(QScrollArea.NoFrame)
        column = QWidget()
        cl = QVBoxLayout(column)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.addWidget(scroll, 1)
        cl.addLayout(grid)
        width = box.sizeHint().width() + scroll.verticalScrollBar().sizeHint().width() + 4
        column.setMinimumWidth(width)
        column.setMaximumWidth(width + 60)
        return column

    def _build_views(self) -> QWidget:
        box = QWidget()
        lay = QVBoxLayout(box)
        lay.setContentsMargins(4, 4, 4, 4)
        top = QHBoxLayout()
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setValue(0)
        self.progress_bar.setTextVisible(True)
        self.progress_bar.setFormat("idle")
        top.addWidget(self.progress_bar, 1)
        self.probe_label = QLabel("drawing: –")
        self.probe_label.setToolTip("How the model being trained reads your drawing")
        self.probe_label.setMinimumWidth(150)
        top.addWidget(self.probe_label)
        lay.addLayout(top)

        vsplit = QSplitter(Qt.Vertical)
        grid_w = QWidget()
        grid = QGridLayout(grid_w)
        grid.setContentsMargins(0, 0, 0, 0)

        # error curves
        self.error_plot = pg.PlotWidget(title="Error")
        self.error_plot.setBackground("w")
        self.error_plot.addLegend(offset=(-5, 5), labelTextSize="8pt")
        self.error_plot.setLabel("bottom", "iteration")
        self.error_plot.setLabel("left", "error")
        self.error_plot.getPlotItem().getAxis("left").enableAutoSIPrefix(False)
        # no grid: pyqtgraph's grid costs 3-8 ms a repaint, and these plots repaint while
        # the worker trains (the event loop must not stall)
        # no symbols on this plot: it is redrawn while the running curve grows, and
        # pyqtgraph's scatter items are costly to repaint
        self.train_curve = self.error_plot.plot([], [], pen=pg.mkPen("#1f77b4", width=2),
                                                name="training")
        self.test_curve = self.error_plot.plot([], [], pen=pg.mkPen("#d62728", width=2), name="test")
        self.running_curve = self.error_plot.plot([], [], pen=pg.mkPen("#4f9bd9", width=2,
                                                                       style=Qt.DashLine),
                                                  name="running (this iteration)")
        grid.addWidget(self.error_plot, 0, 0)

        # accuracy curves
        self.accuracy_plot = pg.PlotWidget(title="Test accuracy (%)")
        self.accuracy_plot.setBackground("w")
        self.accuracy_plot.addLegend(offset=(-5, -5), labelTextSize="8pt")
        self.accuracy_plot.setLabel("bottom", "iteration")
        self.accuracy_plot.getPlotItem().getAxis("left").enableAutoSIPrefix(False)
        self.argmax_curve = self.accuracy_plot.plot([], [], pen=pg.mkPen("#2ca02c", width=2),
                                                    symbol="o", symbolSize=5, symbolBrush="#2ca02c",
                                                    name="arg-max accuracy")
        self.percent_curve = self.accuracy_plot.plot([], [], pen=pg.mkPen("#9467bd", width=2),
                                                     symbol="t", symbolSize=6, symbolBrush="#9467bd",
                                                     name="percent correct (article's rule)")
        grid.addWidget(self.accuracy_plot, 0, 1)

        # kernels
        self.kernels_plot = pg.PlotWidget(title="Kernels (red +, blue −)")
        self.kernels_plot.setBackground("w")
        self._bare(self.kernels_plot)
        self.kernels_image = pg.ImageItem(axisOrder="row-major")
        self.kernels_plot.addItem(self.kernels_image)
        self.kernels_updates = 0
        grid.addWidget(self.kernels_plot, 1, 0)

        # confusion matrix
        self.confusion_plot = pg.PlotWidget(title="Confusion matrix (test set)")
        self.confusion_plot.setBackground("w")
        self.confusion_image = pg.ImageItem(np.zeros((10, 10)), axisOrder="row-major")
        self.confusion_image.setColorMap(pg.colormap.get("viridis"))
        self.confusion_plot.addItem(self.confusion_image)
        vb = self.confusion_plot.getPlotItem().getViewBox()
        vb.setAspectLocked(True)
        vb.invertY(True)
        vb.setMouseEnabled(False, False)
        vb.setRange(xRange=(0, 10), yRange=(0, 10), padding=0.02)
        ticks = [[(i + 0.5, str(i)) for i in range(10)]]
        for side in ("left", "bottom"):
            ax = self.confusion_plot.getPlotItem().getAxis(side)
            ax.setTicks(ticks)
        self.confusion_plot.setLabel("left", "true")
        self.confusion_plot.setLabel("bottom", "predicted")
        font = QFont()
        font.setPointSize(7)
        self.confusion_texts = []
        for i in range(10):
            for j in range(10):
                # a plain Qt text item (painted in C++, unlike pg.TextItem), drawn at
                # screen scale and centred on the cell by its own transform
                t = QGraphicsSimpleTextItem("")
                t.setFont(font)
                t.setFlag(QGraphicsItem.ItemIgnoresTransformations, True)
                t.setPos(j + 0.5, i + 0.5)
                t.setZValue(10)
                self.confusion_plot.addItem(t)
                self.confusion_texts.append(t)
        self.confusion = None
        grid.addWidget(self.confusion_plot, 1, 1)
        for w in (self.error_plot, self.accuracy_plot, self.kernels_plot, self.confusion_plot):
            w.setMinimumSize(220, 170)
        grid.setRowStretch(0, 1)
        grid.setRowStretch(1, 1)
        vsplit.addWidget(grid_w)

        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(5000)
        self.log.setPlaceholderText("Training log")
        vsplit.addWidget(self.log)
        vsplit.setStretchFactor(0, 4)
        vsplit.setStretchFactor(1, 1)
        lay.addWidget(vsplit, 1)
        return box

    @staticmethod
    def _bare(plot: pg.PlotWidget) -> None:
        item = plot.getPlotItem()
        for side in ("left", "bottom"):
            item.hideAxis(side)
        vb = item.getViewBox()
        vb.setAspectLocked(True)
        vb.invertY(True)
        vb.setMouseEnabled(False, False)

    # ================================================================ settings
    def settings(self) -> TrainingSettings:
        """The settings the controls show."""
        base = getattr(self, "_extra", {})
        return TrainingSettings(
            mode=self.mode_combo.currentData(), source=self.source_combo.currentData(),
            path=self.path_edit.text().strip() or None,
            train_count=self.train_count_spin.value(), iterations=self.iterations_spin.value(),
            tol=self.tol_spin.value(), alpha=self.alpha_spin.value(),
            batch=self.batch_spin.value(), momentum=self.momentum_spin.value(),
            dropout=self.dropout_spin.value(), kernels=self.kernels_spin.value(),
            kernel_size=self.kernel_size_spin.value(), hidden=self.hidden_spin.value(),
            seed=self.seed_spin.value(),
            biases=bool(base.get("biases", False)) and self.mode_combo.currentData() == "backprop",
            loss=base.get("loss", "xent"), augment=bool(base.get("augment", False)),
            schedule=base.get("schedule", "cosine"))

    def apply_settings(self, s: TrainingSettings, *, ask: bool = True) -> bool:
        """Show ``s`` in the controls. Returns False if the user kept the trained model's
        architecture instead (then nothing changes)."""
        if not self._may_change_architecture(s.kernels, s.kernel_size, s.hidden, ask=ask):
            return False
        widgets = [self.mode_combo, self.source_combo, self.path_edit, self.train_count_spin,
                   self.iterations_spin, self.tol_spin, self.alpha_spin, self.batch_spin,
                   self.momentum_spin, self.dropout_spin, self.kernels_spin,
                   self.kernel_size_spin, self.hidden_spin, self.seed_spin]
        for w in widgets:
            w.blockSignals(True)
        try:
            self.mode_combo.setCurrentIndex(max(0, self.mode_combo.findData(s.mode)))
            self.source_combo.setCurrentIndex(max(0, self.source_combo.findData(s.source)))
            self.path_edit.setText(s.path or "")
            self.train_count_spin.setValue(int(s.train_count))
            self.iterations_spin.setValue(int(s.iterations))
            self.tol_spin.setValue(float(s.tol))
            self.alpha_spin.setValue(float(s.alpha))
            self.batch_spin.setValue(int(s.batch))
            self.momentum_spin.setValue(float(s.momentum))
            self.dropout_spin.setValue(float(s.dropout))
            self.kernels_spin.setValue(int(s.kernels))
            self.kernel_size_spin.setValue(int(s.kernel_size))
            self.hidden_spin.setValue(int(s.hidden))
            self.seed_spin.setValue(int(s.seed))
        finally:
            for w in widgets:
                w.blockSignals(False)
        self._extra = {"biases": s.biases, "loss": s.loss, "augment": s.augment,
                       "schedule": s.schedule}
        self._update_enabled()
        return True

    def _update_enabled(self) -> None:
        backprop = self.mode_combo.currentData() == "backprop"
        idle = not self._training
        for w in (self.batch_spin, self.momentum_spin):
            w.setEnabled(backprop and idle)
        local = self.source_combo.currentData() in ("local", "auto")
        for w in (self.path_edit, self.file_button, self.folder_button):
            w.setEnabled(local and idle)

    def _controls(self):
        return [self.mode_combo, self.source_combo, self.path_edit, self.file_button,
                self.folder_button, self.download_button, self.train_count_spin,
                self.iterations_spin, self.tol_spin, self.alpha_spin, self.batch_spin,
                self.momentum_spin, self.dropout_spin, self.seed_spin, self.kernels_spin,
                self.kernel_size_spin, self.hidden_spin, self.article_button, self.best_button]

    def _update_buttons(self) -> None:
        busy = self._training
        for w in self._controls():
            w.setEnabled(not busy)
        self.start_button.setEnabled(not busy)
        self.step_button.setEnabled(not busy)
        self.reset_button.setEnabled(not busy)
        self.pause_button.setEnabled(busy)
        self.stop_button.setEnabled(busy)
        if not busy:
            self.pause_button.setText("Pause")
        self._update_enabled()

    # ================================================================ architecture guard
    def _is_trained(self, model) -> bool:
        return model is not None and (bool(model.record) or model.name != "untrained")

    def _confirm(self, title: str, text: str) -> bool:
        """Ask a yes/no question (tests replace this)."""
        answer = QMessageBox.question(self, title, text, QMessageBox.Yes | QMessageBox.No,
                                      QMessageBox.No)
        return answer == QMessageBox.Yes

    def _may_change_architecture(self, kernels, size, hidden, *, ask=True) -> bool:
        m = self._model
        if m is None:
            return True
        c = m.config
        if (c.kernels, c.kernel_size, c.hidden) == (kernels, size, hidden):
            return True
        if not self._is_trained(m) or self._arch_ok_for is m or not ask:
            self._arch_ok_for = m
            return True
        ok = self._confirm("Change the network?",
                           f"The current model ({m.name}: {c.kernels} kernels of {c.kernel_size}x"
                           f"{c.kernel_size}, hidden {c.hidden}) is trained"
                           + (" and not saved" if self._unsaved else "")
                           + ". A network of another shape starts from fresh weights, so Step can "
                             "no longer continue it. Change the network?")
        if ok:
            self._arch_ok_for = m
        return ok

    def _on_architecture_changed(self) -> None:
        k, f, h = self.kernels_spin.value(), self.kernel_size_spin.value(), self.hidden_spin.value()
        if self._may_change_architecture(k, f, h):
            return
        c = self._model.config
        for s, v in ((self.kernels_spin, c.kernels), (self.kernel_size_spin, c.kernel_size),
                     (self.hidden_spin, c.hidden)):
            s.blockSignals(True)
            s.setValue(v)
            s.blockSignals(False)

    # ================================================================ public API
    def set_model(self, model) -> None:
        """The current model (Step continues from it; Start begins from fresh weights)."""
        if model is self._model:
            return
        self._model = model
        self._unsaved = False
        self._arch_ok_for = None
        if model is None:
            return
        self._iterations_done = int(model.record.get("iterations") or 0) if model.record else 0
        c = model.config
        for s, v in ((self.kernels_spin, c.kernels), (self.kernel_size_spin, c.kernel_size),
                     (self.hidden_spin, c.hidden)):
            s.blockSignals(True)
            s.setValue(v)
            s.blockSignals(False)
        self._extra = {**getattr(self, "_extra", {}), "biases": c.biases}
        self._show_kernels(model)
        self._probe_model = model
        self._update_probe()

    def set_probe(self, image01) -> None:
        """The user's current drawing, (28, 28) float in [0, 1], or None."""
        self._probe = None if image01 is None else np.asarray(image01, dtype=np.float64)
        self._update_probe()

    def is_training(self) -> bool:
        return self._training

    def has_unsaved_model(self) -> bool:
        return self._unsaved

    def mark_saved(self) -> None:
        self._unsaved = False

    def model(self):
        """The panel's current weights (what Step continues), or None."""
        return self._model

    def shutdown(self) -> None:
        """Stop training and wait for the worker thread (call from closeEvent).

        Returns once the thread has ended (within one chunk/batch of training). The final
        ``modelTrained`` arrives with the next event processing; dialogs are suppressed
        from now on. Training can be started again afterwards (a new thread).
        """
        self._closed = True
        self._thread.shutdown()
        self._training = False

    # ================================================================ actions
    def start(self) -> bool:
        """Start a new run from freshly initialised weights. Returns False if not started."""
        if self._training:
            return False
        if self._unsaved and not self._confirm(
                "Start a new run?", "The last trained model has not been saved. A new run replaces "
                                    "it when it ends. Start anyway?"):
            return False
        self._reset_curves()
        self._iterations_done = 0
        return self._submit(TrainingJob(self.settings(), model=None, start_iteration=0))

    def step(self) -> bool:
        """Train one more iteration from the current weights (fresh ones if there are none
        or they have another architecture)."""
        if self._training:
            return False
        s = self.settings()
        model = self._model if (self._model is not None and self._model.config == s.config) else None
        if model is None:
            self._reset_curves()
            self._iterations_done = 0
        return self._submit(TrainingJob(s, model=model, iterations=1, tol=0.0,
                                        start_iteration=self._iterations_done))

    def reset_weights(self) -> None:
        """Replace the current weights by a fresh seeded initialisation (asks if trained)."""
        if self._training:
            return
        if self._is_trained(self._model) and self._unsaved and not self._confirm(
                "Reset the weights?", "The trained model has not been saved. Throw its weights "
                                      "away and start from fresh ones?"):
            return
        from .worker import make_model
        from engine.model import Normalisation
        s = self.settings()
        norm = self._model.norm if self._model is not None else Normalisation(
            kind="article" if s.mode == "article" else "standard")
        fresh = make_model(s, norm)
        self._model = fresh
        self._unsaved = False
        self._arch_ok_for = None
        self._iterations_done = 0
        self._reset_curves()
        self._show_kernels(fresh)
        self._probe_model = fresh
        self._update_probe()
        self.liveModel.emit(fresh)
        self._log("weights reset to a fresh initialisation (seed %d)" % s.seed)
        self.statusMessage.emit("weights reset")

    def stop(self) -> None:
        """Stop the run (within one chunk/batch); the weights so far are kept."""
        if self._training:
            self._thread.worker.stop()
            self.statusMessage.emit("stopping…")

    def pause(self) -> None:
        if self._training:
            self._thread.worker.pause()
            self.pause_button.setText("Resume")

    def resume(self) -> None:
        self._thread.worker.resume()
        self.pause_button.setText("Pause")

    def toggle_pause(self) -> None:
        if self._thread.worker.is_paused():
            self.resume()
        else:
            self.pause()

    def is_paused(self) -> bool:
        return self._thread.worker.is_paused()

    def download_mnist(self) -> None:
        """Download MNIST through Keras in the worker thread."""
        if self._training:
            return
        self._closed = False
        self._training = True
        self._update_buttons()
        self.pause_button.setEnabled(False)
        self.progress_bar.setRange(0, 0)
        self.progress_bar.setFormat("downloading MNIST…")
        self._log("downloading MNIST through Keras…")
        self._thread.download()

    def _submit(self, job: TrainingJob) -> bool:
        self._closed = False
        if self.data_override is not None:
            job.data = self.data_override
        job.stepper_factory = self.stepper_factory
        s = job.settings
        self._run = {"settings": s, "start_iteration": job.start_iteration,
                     "end_iteration": job.start_iteration + (job.iterations or s.iterations),
                     "t0": time.perf_counter(), "last_eval": None, "step": job.iterations == 1}
        self._training = True
        self._update_buttons()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat("loading data…")
        what = "one iteration" if job.iterations == 1 else f"up to {s.iterations} iterations"
        self._log(f"— {'step' if job.iterations == 1 else 'run'}: {what}, {s.mode} mode, rate {s.alpha:g}"
                  + (f", batch {s.batch}, momentum {s.momentum:g}, loss {s.loss}, {s.schedule} schedule"
                     + (", augmented" if s.augment else "") + (", biases" if s.biases else "")
                     if s.mode == "backprop" else "")
                  + f", {s.kernels} kernels {s.kernel_size}x{s.kernel_size}, hidden {s.hidden}, "
                    f"{s.train_count:,} images, seed {s.seed}"
                  + (f", dropout {s.dropout:g}" if s.dropout else "")
                  + (f", stop at error {s.tol:g}" if s.tol and job.iterations != 1 else ""))
        self._thread.submit(job)
        return True

    def _choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "MNIST file", self.path_edit.text(),
                                              "MNIST (*.npz *.gz *-ubyte);;All files (*)")
        if path:
            self.path_edit.setText(path)
            self.source_combo.setCurrentIndex(self.source_combo.findData("local"))

    def _choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Folder of MNIST IDX files", self.path_edit.text())
        if path:
            self.path_edit.setText(path)
            self.source_combo.setCurrentIndex(self.source_combo.findData("local"))

    # ================================================================ worker signals
    def _on_started(self, job) -> None:
        self.trainingStarted.emit()
        self.statusMessage.emit("loading data…")

    def _on_data_ready(self, description: str) -> None:
        self._log(description)
        self.progress_bar.setFormat("training…")

    def _on_status(self, text: str) -> None:
        if text in ("paused", "resumed"):
            self._log(text)
        self.statusMessage.emit(text)

    def _on_paused(self, paused: bool) -> None:
        self.pause_button.setText("Resume" if paused else "Pause")
        if paused:
            self.progress_bar.setFormat(self.progress_bar.format().split(" ·")[0] + " · paused")

    def _on_progress(self, ev: Progress) -> None:
        run = self._run
        end = run.get("end_iteration", ev.iteration + 1)
        start = run.get("start_iteration", 0)
        n_iter = max(end - start, 1)
        frac = (ev.iteration - start + ev.done / max(ev.total, 1)) / n_iter
        self.progress_bar.setValue(int(1000 * min(max(frac, 0.0), 1.0)))
        remaining = (end - ev.iteration) * ev.total - ev.done
        left = remaining / ev.images_per_second if ev.images_per_second > 0 else math.inf
        self.progress_bar.setFormat(
            f"iteration {ev.iteration + 1}/{end} · {ev.images_per_second:,.0f} img/s · "
            f"{_fmt_time(left)} left"
            + (" at most" if run.get("settings") and run["settings"].tol and not run.get("step") else ""))
        self._run_x.append(ev.iteration + ev.done / max(ev.total, 1))
        self._run_y.append(ev.running_error)
        now = time.perf_counter()
        if now - self._run_drawn >= self.CURVE_SECONDS:   # replotting re-ticks the axes: keep it rare
            self._run_drawn = now
            self.running_curve.setData(self._run_x, self._run_y)

    def _on_iteration(self, ev: IterationEnd) -> None:
        self._train_x.append(ev.iteration + 1)
        self._train_y.append(ev.train_error)
        self.train_curve.setData(self._train_x, self._train_y)
        self._run_x, self._run_y = [], []
        self.running_curve.setData([], [])
        self._iterations_done = ev.iteration + 1
        extra = f", loss {ev.loss:.5f}" if not math.isclose(ev.loss, ev.train_error) else ""
        self._log(f"iteration {ev.iteration}: training error {ev.train_error:.5f}{extra} "
                  f"({ev.seconds:.1f} s, {ev.images_per_second:,.0f} img/s)")

    def _on_evaluated(self, ev: Evaluated) -> None:
        x = ev.iteration + 1
        self._test_x.append(x)
        self._test_y.append(ev.test_error)
        self._acc_argmax.append(ev.argmax_accuracy)
        self._acc_percent.append(ev.percent_correct)
        self.test_curve.setData(self._test_x, self._test_y)
        self.argmax_curve.setData(self._test_x, self._acc_argmax)
        self.percent_curve.setData(self._test_x, self._acc_percent)
        self._show_confusion(ev.confusion)
        self._run["last_eval"] = ev
        self._log(f"    test error {ev.test_error:.5f}, arg-max accuracy {ev.argmax_accuracy:.2f}%, "
                  f"percent correct (article's metric) {ev.percent_correct:.2f}%")

    def _on_snapshot(self, model) -> None:
        self._show_kernels(model)
        self._probe_model = model
        self._update_probe()
        self.liveModel.emit(model)

    def _on_finished(self, fin: Finished, model) -> None:
        self._training = False
        run = self._run
        s: TrainingSettings | None = run.get("settings")
        if fin.reason in ("max_iter", "converged", "stopped", "diverged") and model is not None \
                and s is not None:
            if fin.iterations > 0 or fin.images > 0:     # diverged: the last good weights
                self._adopt(model, fin, s)
        self._update_buttons()
        self.progress_bar.setRange(0, 1000)
        ev = run.get("last_eval")
        wall = time.perf_counter() - run.get("t0", time.perf_counter())
        if fin.reason == "failed":
            self.progress_bar.setFormat("failed")
            summary = f"training failed: {fin.message}"
        else:
            self.progress_bar.setFormat(f"{fin.reason.replace('_', ' ')} · {fin.iterations} "
                                        f"iterations · {fin.images_per_second:,.0f} img/s")
            if fin.reason != "stopped" or fin.iterations:
                self.progress_bar.setValue(1000 if fin.reason in ("max_iter", "converged")
                                           else self.progress_bar.value())
            err = f"{fin.train_error:.5f}" if math.isfinite(fin.train_error) else "–"
            summary = (f"{fin.message[:1].upper()}{fin.message[1:]}. {fin.iterations} iterations, "
                       f"final training error {err}")
            if ev is not None:
                summary += (f", test error {ev.test_error:.5f}, arg-max accuracy "
                            f"{ev.argmax_accuracy:.2f}%, percent correct {ev.percent_correct:.2f}%")
            summary += (f"; training {fin.seconds:.1f} s ({fin.images_per_second:,.0f} img/s), "
                        f"{wall:.1f} s in all.")
        self._log(summary)
        self.statusMessage.emit(summary)
        if fin.reason == "diverged":
            self._show_dialog(QMessageBox.Warning, "Training diverged",
                              f"{fin.message[:1].upper()}{fin.message[1:]}")
        self.trainingStopped.emit()

    def _adopt(self, model: Model, fin: Finished, s: TrainingSettings) -> None:
        ev = self._run.get("last_eval")
        total_iter = self._iterations_done
        rec = dict(model.record) if model.record else {}
        rec.update(mode=s.mode, iterations=total_iter, train_error=fin.train_error,
                   reason=fin.reason, train_seconds=fin.seconds,
                   images_per_second=fin.images_per_second, alpha=s.alpha, seed=s.seed,
                   dropout=s.dropout, train_images=s.train_count, data_source=s.source)
        if s.mode == "backprop":
            rec.update(batch=s.batch, momentum=s.momentum, loss=s.loss, schedule=s.schedule,
                       augment=s.augment)
        if ev is not None:
            rec.update(test_error=ev.test_error, percent_correct=ev.percent_correct,
                       argmax_accuracy=ev.argmax_accuracy)
        model.record = {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                        for k, v in rec.items()}
        model.name = f"trained in the window ({s.mode}, {total_iter} iterations)"
        self._model = model
        self._arch_ok_for = None
        self._unsaved = True
        self._show_kernels(model)
        self._probe_model = model
        self._update_probe()
        self.modelTrained.emit(model)

    def _on_failed(self, message: str) -> None:
        self._log(message)
        self._show_dialog(QMessageBox.Critical, "Training failed", message)

    def _on_download_progress(self, done: int, total: int) -> None:
        if total > 0:
            self.progress_bar.setRange(0, 1000)
            self.progress_bar.setValue(int(1000 * done / total))
            self.progress_bar.setFormat(f"downloading MNIST: {done / 1e6:.1f} of {total / 1e6:.1f} MB")
        else:
            self.progress_bar.setFormat(f"downloading MNIST: {done / 1e6:.1f} MB")

    def _on_download_finished(self, ok: bool, message: str) -> None:
        self._training = False
        self._update_buttons()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setValue(1000 if ok else 0)
        self.progress_bar.setFormat(message)
        self._log(message)
        self.statusMessage.emit(message)
        if not ok and "cancelled" not in message:
            self._show_dialog(QMessageBox.Warning, "Download failed", message)

    def _show_dialog(self, icon, title: str, text: str) -> None:
        """A non-blocking message box (kept in ``last_dialog``)."""
        if self._closed:
            return
        box = QMessageBox(icon, title, text, QMessageBox.Ok, self)
        box.setAttribute(Qt.WA_DeleteOnClose, False)
        box.setModal(False)
        self._dialog = box
        box.show()

    @property
    def last_dialog(self) -> QMessageBox | None:
        return self._dialog

    # ================================================================ views
    def _reset_curves(self) -> None:
        self._train_x, self._train_y = [], []
        self._test_x, self._test_y = [], []
        self._acc_argmax, self._acc_percent = [], []
        self._run_x, self._run_y = [], []
        self._run_drawn = 0.0
        for c in (self.train_curve, self.test_curve, self.running_curve, self.argmax_curve,
                  self.percent_curve):
            c.setData([], [])

    def _show_kernels(self, model) -> None:
        if model is None:
            return
        img = kernel_mosaic(model.params["K"], model.config.kernel_size)
        self.kernels_image.setImage(img, autoLevels=False, levels=(0, 255))
        self.kernels_plot.getPlotItem().getViewBox().setRange(
            xRange=(0, img.shape[1]), yRange=(0, img.shape[0]), padding=0.02)
        self.kernels_updates += 1

    def _show_confusion(self, confusion: np.ndarray) -> None:
        c = np.asarray(confusion, dtype=np.float64)
        self.confusion = c
        top = max(float(c.max()), 1.0)
        self.confusion_image.setImage(c, autoLevels=False, levels=(0, top))
        dark, light = QBrush(QColor("black")), QBrush(QColor("white"))
        for idx, t in enumerate(self.confusion_texts):
            v = int(c.flat[idx])
            t.setText(str(v) if v else "")
            t.setBrush(dark if v > 0.6 * top else light)
            r = t.boundingRect()
            t.setTransform(QTransform.fromTranslate(-r.width() / 2, -r.height() / 2))

    def _update_probe(self) -> None:
        m, img = self._probe_model, self._probe
        if m is None or img is None or img.shape != (28, 28) or not np.any(img):
            self.probe_label.setText("drawing: –")
            return
        try:
            proba = m.predict_proba(img[None])[0]
        except Exception:  # a snapshot mid-change should never break the view
            return
        d = int(np.argmax(proba))
        self.probe_label.setText(f"drawing: {d} ({100 * proba[d]:.0f}%)")

    def _log(self, text: str) -> None:
        self.log.appendPlainText(text)
