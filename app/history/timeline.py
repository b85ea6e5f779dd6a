"""The timeline: scrub a run's snapshots and every view goes back in time.

:class:`TimelinePanel` shows a slider over the snapshots of the last run (or of a run
opened from the Runs view), a play/pause button, the figures of the moment and a plot of
the drawing's ten probabilities across training (recomputed when the drawing changes).
:class:`TimelineWiring` ties it to the window (which builds the dock): moving the
slider shows the snapshot's model to the drawing views (probabilities, feature maps,
winning kernels), its kernels and confusion matrix in the Train tab, and marks the moment
on the curves; the end of the slider ("now") gives the views back to the current model.
"""
from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QPushButton, QSlider, QVBoxLayout,
                               QWidget)

from engine.history.snapshots import Timeline
from engine.train.events import IterationEnd, Progress
from engine.train.record import TestFigures

from ..train.plots import legend_below
from ..train.run_jobs import Snapshot
from ..train.words import unit_of


__all__ = ["TimelinePanel", "TimelineWiring"]

DIGIT_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                 "#7f7f7f", "#bcbd22", "#17becf"]


class TimelinePanel(QWidget):
    """A slider over a :class:`engine.history.snapshots.Timeline`, play/pause, and the drawing's
    probabilities across training.

    Signals
    -------
    pointChosen(int)
        The snapshot shown now (an index into :attr:`timeline`).
    """

    pointChosen = Signal(int)
    PLAY_MS = 200

    def __init__(self, parent=None):
        super().__init__(parent)
        self.timeline: Timeline | None = None
        self.source = ""
        self.proba: np.ndarray | None = None       # (snapshots, 10) for the drawing
        self._image: np.ndarray | None = None
        self.last_latency = float("nan")           # seconds from the slider to the views updated
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        row = QHBoxLayout()
        self.play_button = QPushButton("Play")
        self.play_button.setCheckable(True)
        self.play_button.setToolTip("Play the run from the start (again: pause)")
        self.play_button.toggled.connect(self._play)
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setToolTip("Drag to go back in time: every view shows the model of that moment")
        self.slider.valueChanged.connect(self._moved)
        self.now_button = QPushButton("Now")
        self.now_button.setToolTip("Back to the current model")
        self.now_button.clicked.connect(lambda: self.slider.setValue(self.slider.maximum()))
        for w, k in ((self.play_button, 0), (self.slider, 1), (self.now_button, 0)):
            row.addWidget(w, k)
        lay.addLayout(row)
        self.label = QLabel("No run yet: train one (Train tab) or open one (Runs).")
        self.label.setWordWrap(True)
        lay.addWidget(self.label)
        self.plot = pg.PlotWidget(title="Your drawing's probabilities across training", background="w")
        self.unit = "iteration"                    # an epoch for backprop runs
        self.plot.setLabel("bottom", self.unit)
        self.plot.getAxis("bottom").enableAutoSIPrefix(False)      # never "iteration (x0.001)"
        self.plot.setXRange(0, 1)
        self.plot.setYRange(0, 1)
        self._live: tuple[list, list] | None = None    # a run in progress: positions, probabilities
        legend_below(self.plot, columns=10)       # (over the plot it hid the curves)
        self.curves = [self.plot.plot([], [], pen=pg.mkPen(DIGIT_COLOURS[d], width=2), name=str(d))
                       for d in range(10)]
        self.marker = pg.InfiniteLine(angle=90, pen=pg.mkPen("#444", style=Qt.DashLine))
        self.plot.addItem(self.marker)
        lay.addWidget(self.plot, 1)
        self._timer = QTimer(self)
        self._timer.setInterval(self.PLAY_MS)
        self._timer.timeout.connect(self._advance)
        self.set_timeline(None)

    # -- the run -----------------------------------------------------------------------------
    def set_unit(self, unit: str) -> None:
        """Name the x axis and the snapshots after the run's unit ("iteration", "epoch")."""
        if unit != self.unit:        # (a run in progress sets it at every event)
            self.unit = unit
            self.plot.setLabel("bottom", unit)

    def follow(self, position: float, end: int, model=None) -> None:
        """A run in progress is at ``position`` (in its unit) of ``end``: say so, and with a
        snapshot ``model``, add its reading of the drawing to the plot."""
        if self._live is None:
            self.play_button.setChecked(False)
            self._live = ([], [])
            self.timeline, self.proba = None, None
            for c in self.curves:
                c.setData([], [])
            self.plot.setXRange(0, max(end, 1), padding=0.02)
            for w in (self.slider, self.play_button, self.now_button):
                w.setEnabled(False)
        if model is not None and self._image is not None and np.any(self._image > 0):
            xs, ps = self._live
            xs.append(position)
            ps.append(model.predict_proba(self._image[None])[0])
            arr = np.asarray(ps)
            for d, c in enumerate(self.curves):
                c.setData(xs, arr[:, d])
        self.marker.setValue(position)
        self.label.setText(f"A run is training: {self.unit} {min(int(position) + 1, end)} of {end}; "
                           "its snapshots can be scrubbed when it ends.")

    def set_timeline(self, timeline: Timeline | None, source: str = "") -> None:
        """Show ``timeline`` (None: no run), the slider at its end."""
        self._live = None
        self.play_button.setChecked(False)
        self.timeline, self.source = timeline, source
        n = len(timeline) if timeline is not None else 0
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(n - 1, 0))
        self.slider.setValue(max(n - 1, 0))
        self.slider.blockSignals(False)
        for w in (self.slider, self.play_button, self.now_button):
            w.setEnabled(n > 1)
        self.proba = None
        if self._image is not None:
            self._recompute()
        self._describe(n - 1)
        if n:
            self.pointChosen.emit(n - 1)

    def index(self) -> int:
        return self.slider.value()

    def at_end(self) -> bool:
        return self.timeline is None or self.slider.value() >= len(self.timeline) - 1

    def set_index(self, i: int) -> None:
        self.slider.setValue(int(i))

    def _moved(self, i: int) -> None:
        t0 = time.perf_counter()
        self._describe(i)
        self.pointChosen.emit(i)
        self.last_latency = time.perf_counter() - t0

    def _describe(self, i: int) -> None:
        tl = self.timeline
        if tl is None or not len(tl):
            self.label.setText("No run yet: train one (Train tab) or open one (Runs).")
            return
        p = tl[i]
        text = f"<b>{i + 1}/{len(tl)}</b> · {p.label.replace('iteration', self.unit)}"
        if np.isfinite(p.train_error):
            text += f" · training error {p.train_error:.4f}"
        t = tl.test_at(i)
        if t is not None:
            text += (f" · test: arg-max accuracy {t.argmax_accuracy:.2f}%, percent correct "
                     f"{t.percent_correct:.2f}%")
        else:
            text += " · not tested yet"
        if i == len(tl) - 1:
            text += " · <i>now</i>"
        self.label.setText(text + (f" · {self.source}" if self.source else ""))
        self.marker.setValue(p.position)

    # -- playing -----------------------------------------------------------------------------
    def _play(self, on: bool) -> None:
        self.play_button.setText("Pause" if on else "Play")
        if on:
            if self.at_end():
                self.slider.setValue(0)
            self._timer.start()
        else:
            self._timer.stop()

    def _advance(self) -> None:
        if self.at_end():
            self.play_button.setChecked(False)
        else:
            self.slider.setValue(self.slider.value() + 1)

    # -- the drawing -------------------------------------------------------------------------
    def set_drawing(self, image28: np.ndarray) -> None:
        """The network's input for the drawing ``(28, 28)`` in [0, 1]; the probability plot is
        redrawn when it changed."""
        image28 = np.asarray(image28, np.float32)
        if self._image is not None and np.array_equal(image28, self._image):
            return
        self._image = image28.copy()
        self._recompute()

    def _recompute(self) -> None:
        tl = self.timeline
        if tl is None or not len(tl) or self._image is None or not np.any(self._image > 0):
            self.proba = None
            for c in self.curves:
                c.setData([], [])
            return
        self.proba = tl.probabilities(self._image)
        x = np.array([p.position for p in tl.points])
        self.plot.enableAutoRange(x=True)
        for d, c in enumerate(self.curves):
            c.setData(x, self.proba[:, d])


class TimelineWiring(QObject):
    """What ties the timeline to the window.

    Parameters
    ----------
    panel : TimelinePanel
    training_panel : app.train.panel.TrainingPanel
        Its runs fill the timeline; its plots show the moment's kernels, confusion matrix
        and a marker on the curves.
    owner : app.model_owner.ModelOwner
        Shows the moment's model (its live model) to every view.
    reader : app.reading.reader.DrawingReader
        Each reading's input redraws the probabilities across training.
    """

    def __init__(self, panel: TimelinePanel, training_panel, owner, reader, parent=None):
        super().__init__(parent)
        self.panel, self.training_panel, self.owner = panel, training_panel, owner
        plots = training_panel.plots
        self._shown_test = False
        self.markers = []
        for plot in (plots.error_plot, plots.accuracy_plot):     # the moment, on the curves
            m = pg.InfiniteLine(angle=90, pen=pg.mkPen("#444", style=Qt.DashLine))
            m.setVisible(False)
            plot.addItem(m)
            self.markers.append(m)
        panel.pointChosen.connect(self.show_point)
        training_panel.runRecorded.connect(self._recorded)
        training_panel.eventShown.connect(self._live_event)
        training_panel.trainingStarted.connect(lambda: setattr(self, "_at", 0.0))
        training_panel.trainingStarted.connect(self.forget_shown)
        training_panel.trainingStopped.connect(lambda: panel.setEnabled(True))
        reader.readingChanged.connect(lambda r: panel.set_drawing(r.input))

    def watch(self, dock) -> None:
        """``dock`` (the Timeline's) closed: :meth:`give_back`; shown again: :meth:`resume`."""
        dock.visibilityChanged.connect(lambda visible: self.give_back() if dock.isHidden()
                                       else visible and self.resume())

    def _live_event(self, ev) -> None:
        """A run in progress: the panel follows it (where it is, each snapshot's reading)."""
        r = self.training_panel._request
        if not isinstance(ev, (Progress, IterationEnd, Snapshot)) or r is None:
            return
        if isinstance(ev, Progress):            # (thinned out to a few a second)
            self._at = ev.iteration + ev.done / max(ev.total, 1)
        elif isinstance(ev, IterationEnd):       # (never thinned out)
            self._at = ev.iteration + 1.0
        start = r.start_iteration or 0
        self.panel.set_unit(unit_of(r.settings.mode))
        self.panel.follow(getattr(self, "_at", float(start)), start + (r.epochs or r.settings.epochs),
                          ev.model if isinstance(ev, Snapshot) else None)

    def _recorded(self, ev) -> None:
        r = self.training_panel._request
        if r is not None:
            self.panel.set_unit(unit_of(r.settings.mode))
        if ev.timeline is not None and len(ev.timeline):
            self.panel.set_timeline(ev.timeline, "the last run")
            if ev.message:
                self.training_panel.log_line(ev.message)

    def forget_shown(self) -> None:
        """The Train tab's confusion matrix was drawn by someone else (a new run)."""
        self._shown_test = False

    def open_timeline(self, timeline: Timeline, source: str, curves: list | None = None,
                      mode: str = "") -> None:
        """Show a run's timeline (from the Runs view); ``curves``: its per-iteration figures
        (rows of :class:`engine.history.runs.RunLog`), drawn in the Train tab's plots."""
        if curves is not None and not self.owner.is_training():
            plots = self.training_panel.plots
            plots.clear()
            for row in curves:
                it = int(row["iteration"]) - 1
                self.forget_shown()
                plots.add_iteration(IterationEnd(it, row.get("train_error") or np.nan,
                                                 row.get("loss") or np.nan, row.get("seconds") or 0.0, 0.0))
                if row.get("argmax_accuracy") is not None:
                    plots.add_test(it, TestFigures(row.get("test_error") or np.nan,
                                                   row.get("percent_correct") or np.nan,
                                                   row["argmax_accuracy"]))
        if mode:
            self.panel.set_unit(unit_of(mode))
        self.panel.set_timeline(timeline, source)

    def give_back(self) -> None:
        """The dock closed: the drawing is read by the current model again (not a point
        scrubbed back to), and the curves' markers go."""
        if self.owner.is_training() or self.owner.live() is None:
            return
        self.owner.set_live(None)
        for m in self.markers:
            m.setVisible(False)
        tl = self.panel.timeline
        if tl is not None and len(tl) and self.panel.source == "the last run":
            self.panel.slider.blockSignals(True)
            self.panel.set_index(len(tl) - 1)
            self.panel.slider.blockSignals(False)
            self.panel._describe(len(tl) - 1)

    def resume(self) -> None:
        """The dock shown again: the views show the point its slider is at."""
        tl = self.panel.timeline
        if tl is not None and len(tl) and self.owner.live() is None and not self.panel.at_end():
            self.show_point(self.panel.index())

    def show_point(self, i: int) -> None:
        """Every view shows snapshot ``i`` (the last one: the current model again)."""
        tl = self.panel.timeline
        if tl is None or self.owner.is_training():
            return
        p = tl[i]
        plots = self.training_panel.plots
        now = self.panel.at_end() and self.panel.source == "the last run"
        self.owner.set_live(None if now else p.model)
        for m in self.markers:
            m.setValue(p.position)
            m.setVisible(not now)
        plots.show_kernels(p.model)
        t = tl.test_at(i)
        if t is not self._shown_test:                          # (100 labels: only on a change)
            self._shown_test = t
            if t is not None and t.confusion is not None:
                plots.show_confusion(t.confusion)
            elif t is None:
                plots.show_confusion(np.zeros((10, 10)))      # not tested yet at this moment
