"""The live views of a run: error and accuracy curves, the kernels, the confusion matrix.

Every plot item is made once and updated in place; while a run is on, each view is redrawn
at most every :attr:`TrainingPlots.VIEW_SECONDS` (every redraw takes the interpreter from the
training thread: ``docs/performance.md``).
"""
from __future__ import annotations

import math
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QBrush, QColor, QFont, QTransform
from PySide6.QtWidgets import QGraphicsItem, QGraphicsSimpleTextItem, QGridLayout, QWidget

from engine.train.events import IterationEnd, Progress
from engine.train.record import TestFigures

from ..reading.colormaps import positive_cmap
from ..reading.mosaic import KERNEL_CMAP, Mosaic, kernel_rgba, rgba_lut
from .words import unit_of

__all__ = ["legend_below", "TrainingPlots"]


def legend_below(plot: pg.PlotWidget, columns: int = 1) -> pg.LegendItem:
    """A legend under the plot's x axis in ``columns`` columns (it never covers the curves;
    one column: no wider than its longest name); items added with ``name=`` join it."""
    pi = plot.getPlotItem()
    legend = pg.LegendItem(offset=None, labelTextSize="8pt", colCount=columns, verSpacing=-6)
    pi.layout.addItem(legend, 4, 1)
    pi.legend = legend                    # (plot(name=...) adds its curve here)
    return legend


class TrainingPlots(QWidget):
    """Four plots in a 2x2 grid.

    Attributes
    ----------
    train_curve, test_curve, running_curve, argmax_curve, percent_curve : PlotDataItem
    kernels : Mosaic
        The kernels of the model shown (:meth:`show_kernels`).
    confusion : ndarray (10, 10) or None
        The confusion matrix shown.
    """

    STAGGER_MS = 10
    """While a run is on, at most one view is redrawn this often (the window paints between)."""
    VIEW_SECONDS = 0.5
    """While a run is on, each view is redrawn at most this often (twice a second: at four,
    backprop trained 6% slower in the window than headless)."""
    PLOT_MIN_WIDTH = 150
    """The smallest width of each plot (a narrow panel puts them in one column)."""
    PLOT_READABLE_WIDTH = 240
    """The width at which each plot reads well (titles, the matrix's ten columns)."""

    def __init__(self, parent=None, clock=time.perf_counter):
        super().__init__(parent)
        self._clock = clock
        grid = self._grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        self._plots = (self._error_plot(), self._accuracy_plot(), self._kernels_plot(), self._confusion_plot())
        for w in self._plots:
            w.setMinimumSize(self.PLOT_MIN_WIDTH, 120)
        self._columns = 0
        self.set_columns(2)
        self.kernels_updates = 0
        self.paced, self._pending = False, {}       # view -> its redraw, waiting for its turn
        self._drawn = {}                             # view -> when it was last redrawn (paced)
        self._span, self._x_top, self._error_top = None, 0.0, 0.0   # a run's axes (set_run)
        self._pace = QTimer(self)
        self._pace.setSingleShot(True)
        self._pace.setInterval(self.STAGGER_MS)
        self._pace.timeout.connect(self._draw_next)
        self.clear()

    def set_columns(self, columns: int) -> None:
        """The four plots in a 2x2 grid (``columns`` 2) or in one column (1, each taller)."""
        if columns == self._columns:
            return
        self._columns = columns
        for w in self._plots:
            self._grid.removeWidget(w)
        for i, w in enumerate(self._plots):
            self._grid.addWidget(w, i // columns, i % columns)
            w.setMinimumHeight(120 if columns == 2 else 210)
        for i in range(4):
            self._grid.setRowStretch(i, 1 if i < 4 // columns else 0)

    # -- building -------------------------------------------------------------------------
    def _error_plot(self) -> pg.PlotWidget:
        # no grid and no symbols: this plot repaints while the worker trains
        p = self.error_plot = pg.PlotWidget(title="Error", background="w")
        legend_below(p)                       # (over the data it hid the curves)
        p.getPlotItem().getViewBox().setLimits(minYRange=0.02)       # one point: not a 0.001 span
        p.setLabel("bottom", "iteration")
        p.setLabel("left", "error")
        for side in ("left", "bottom"):        # never "iteration (x0.001)"
            p.getPlotItem().getAxis(side).enableAutoSIPrefix(False)
        self.train_curve = p.plot([], [], pen=pg.mkPen("#1f77b4", width=2), name="training")
        self.test_curve = p.plot([], [], pen=pg.mkPen("#d62728", width=2), name="test")
        self.running_curve = p.plot([], [], pen=pg.mkPen("#4f9bd9", width=2, style=Qt.DashLine),
                                    name="running (this iteration)")
        return p

    def _accuracy_plot(self) -> pg.PlotWidget:
        p = self.accuracy_plot = pg.PlotWidget(title="Test accuracy (%)", background="w")
        legend_below(p)
        p.setLabel("bottom", "iteration")
        for side in ("left", "bottom"):
            p.getPlotItem().getAxis(side).enableAutoSIPrefix(False)
        self.argmax_curve = p.plot([], [], pen=pg.mkPen("#2ca02c", width=2), symbol="o", symbolSize=5,
                                   symbolBrush="#2ca02c", name="arg-max accuracy")
        self.percent_curve = p.plot([], [], pen=pg.mkPen("#9467bd", width=2), symbol="t",
                                    symbolSize=6, symbolBrush="#9467bd",
                                    name="percent correct (article's rule)")
        return p

    def _kernels_plot(self) -> pg.GraphicsLayoutWidget:
        w = self.kernels_widget = pg.GraphicsLayoutWidget()
        w.setBackground("w")
        w.ci.addLabel("Kernels (yellow +, blue −)", row=0, col=0, color="#333")
        w.ci.nextRow()
        self.kernels = Mosaic(w.ci)
        self._klut = rgba_lut(pg.colormap.get(KERNEL_CMAP))      # diverging, centred at zero
        self._arch = None
        return w

    def _confusion_plot(self) -> pg.PlotWidget:
        p = self.confusion_plot = pg.PlotWidget(title="Confusion matrix", background="w")
        p.setToolTip("Confusion matrix on the test set: rows the true digit, columns the digit read; "
                     "click a cell to see its images")
        self.confusion_image = pg.ImageItem(np.zeros((10, 10)), axisOrder="row-major")
        self.confusion_image.setColorMap(positive_cmap())
        p.addItem(self.confusion_image)
        vb = p.getPlotItem().getViewBox()
        vb.setAspectLocked(True)
        vb.invertY(True)
        vb.setMouseEnabled(False, False)
        vb.setRange(xRange=(0, 10), yRange=(0, 10), padding=0.02)
        vb.sigResized.connect(lambda _vb: self._fit_counts())
        ticks = [[(i + 0.5, str(i)) for i in range(10)]]
        for side in ("left", "bottom"):
            p.getPlotItem().getAxis(side).setTicks(ticks)
        p.setLabel("left", "true")
        p.setLabel("bottom", "predicted")
        font = QFont()
        font.setPointSize(9)
        self.confusion_texts = []
        for i in range(10):
            for j in range(10):
                # plain Qt text (painted in C++), screen-sized, centred on its cell
                t = QGraphicsSimpleTextItem("")
                t.setFont(font)
                t.setFlag(QGraphicsItem.ItemIgnoresTransformations, True)
                t.setPos(j + 0.5, i + 0.5)
                t.setZValue(10)
                t.setData(0, "cell")         # coloured against its cell, not by the theme
                p.addItem(t)
                self.confusion_texts.append(t)
        return p

    # -- updating -------------------------------------------------------------------------
    # While a run is on (``set_paced(True)``) the figures are kept at once but each view is
    # redrawn on an event-loop turn of its own, STAGGER_MS apart: the end of an iteration
    # changes all four views, and drawing and painting them in one turn held the window for
    # 20-30 ms. A view is redrawn at most every VIEW_SECONDS (short iterations end several
    # times a second; every redraw takes the interpreter from the training thread), with what
    # is newest. When the run ends, what waits is drawn a view a turn, then the axes fitted to
    # the curves again; out of a run a change is drawn at once.
    def set_paced(self, on: bool) -> None:
        """Pace the redrawing (a run is on) or not (what waits is drawn a view an event-loop
        turn, then the curves' axes are fitted to them again)."""
        on = bool(on)
        if on == self.paced:
            return
        self.paced = on
        self._pending.pop("axes", None)            # (a new run fixes them: set_run)
        if not on:
            self._span, self._x_top, self._error_top = None, 0.0, 0.0
            self._pending["axes"] = self._fit_axes
            self._schedule()

    def _fit_axes(self) -> None:
        for p in (self.error_plot, self.accuracy_plot):
            p.getPlotItem().getViewBox().enableAutoRange(axis="x")
        self.error_plot.getPlotItem().getViewBox().enableAutoRange(axis="y")

    def up_to_date(self) -> bool:
        """Whether every view shows the figures kept (none waits for its turn)."""
        return not self._pending

    def _draw(self, view: str, redraw) -> None:
        if not self.paced:
            self._pending.pop(view, None)          # (an older redraw waiting: this one is newer)
            redraw()
            return
        self._pending[view] = redraw               # a view already waiting keeps its place
        self._schedule()

    def _schedule(self) -> None:
        """Start the pace timer for the first waiting view's turn (not before STAGGER_MS)."""
        if not self._pending or self._pace.isActive():
            return
        wait = 0.0
        if self.paced:
            now = self._clock()
            wait = min(self._drawn.get(v, -1e9) + self.VIEW_SECONDS - now for v in self._pending)
        self._pace.start(max(self.STAGGER_MS, int(1000 * wait) + 1))

    def _draw_next(self) -> None:
        now = self._clock()
        due = [v for v in self._pending
               if not self.paced or now - self._drawn.get(v, -1e9) >= self.VIEW_SECONDS]
        if due:
            self._draw_view(due[0])
        self._schedule()

    def _draw_view(self, view: str) -> None:
        self._drawn[view] = self._clock()
        self._pending.pop(view)()

    def _fit_error_axis(self) -> None:
        """Grow the error's y axis (a run is on) when a value rises above it."""
        top = max((v for v in self._train_y + self._test_y + self._run_y if np.isfinite(v)), default=0.0)
        if top > self._error_top:
            self._error_top = 1.25 * top
            self.error_plot.getPlotItem().getViewBox().setYRange(0, self._error_top, padding=0.02)

    def clear(self) -> None:
        """No curves (a new run)."""
        self._pending.clear()
        if not self.paced:
            self._fit_axes()
        self._train_x, self._train_y = [], []
        self._test_x, self._test_y, self._acc_argmax, self._acc_percent = [], [], [], []
        self.running_x, self._run_y = [], []
        for c in (self.train_curve, self.test_curve, self.running_curve, self.argmax_curve,
                  self.percent_curve):
            c.setData([], [])
        self.confusion = None

    def set_run(self, mode: str, end: int) -> None:
        """The x axes of a run: named after what one step of ``mode`` is (an iteration in the
        article's mode, an epoch in backprop) and, while it is on, spanning 0 to a power of two
        that doubles as the curves reach it, up to ``end`` (where the run stops at the latest);
        the error's y axis only grows. Axes that do not move as the curves grow are not laid
        out again at every redraw (that was most of a redraw's time, taken from the training
        while it ran)."""
        self._span, self._x_top, self._error_top = max(int(end), 1), 0.0, 0.0
        for p in (self.error_plot, self.accuracy_plot):
            p.setLabel("bottom", unit_of(mode))
        self._fit_x_axes()

    def _fit_x_axes(self) -> None:
        """Widen the curves' x axes (a run is on) to the next power of two past the curves."""
        reach = max(self._train_x + self._test_x + self.running_x, default=0.0)
        top = float(min(self._span, 2 ** math.ceil(math.log2(max(reach + 0.5, 2.0)))))
        if top > self._x_top:
            self._x_top = top
            for p in (self.error_plot, self.accuracy_plot):
                p.getPlotItem().getViewBox().setXRange(0, top, padding=0.02)

    def forget_kernels(self) -> None:
        """No kernels and no confusion matrix shown (a new run, until its first snapshot)."""
        self._pending.pop("kernels", None)
        self._pending.pop("confusion", None)
        if self.kernels.geom is not None:
            rows, cols, s, gap, band = self.kernels.geom
            self.kernels.show(np.zeros((len(self.kernels.cells), s, s, 4), np.uint8))
        self.confusion = None
        self.confusion_image.setImage(np.zeros((10, 10)), autoLevels=False, levels=(0, 1))
        for t in self.confusion_texts:
            t.setText("")

    def add_progress(self, ev: Progress) -> None:
        self.running_x.append(ev.iteration + ev.done / max(ev.total, 1))
        self._run_y.append(ev.running_error)
        self._draw("error", self._draw_error)

    def add_iteration(self, ev: IterationEnd) -> None:
        self._train_x.append(ev.iteration + 1)
        self._train_y.append(ev.train_error)
        self.running_x, self._run_y = [], []
        self._draw("error", self._draw_error)

    def _draw_error(self) -> None:
        if self.paced and self._span:
            self._fit_x_axes()
            self._fit_error_axis()
        self.train_curve.setData(self._train_x, self._train_y)
        self.test_curve.setData(self._test_x, self._test_y)
        self.running_curve.setData(self.running_x, self._run_y)

    def add_test(self, iteration: int, fig: TestFigures) -> None:
        self._test_x.append(iteration + 1)
        self._test_y.append(fig.test_error)
        self._acc_argmax.append(fig.argmax_accuracy)
        self._acc_percent.append(fig.percent_correct)
        self._draw("error", self._draw_error)
        self._draw("accuracy", self._draw_accuracy)
        if fig.confusion is not None:
            self.show_confusion(fig.confusion)

    def _draw_accuracy(self) -> None:
        if self.paced and self._span:
            self._fit_x_axes()
        self.argmax_curve.setData(self._test_x, self._acc_argmax)
        self.percent_curve.setData(self._test_x, self._acc_percent)
        values = [v for v in self._acc_argmax + self._acc_percent if np.isfinite(v)]
        vb = self.accuracy_plot.getPlotItem().getViewBox()
        if values and max(values) - min(values) < 4:        # one point: not a 33.6 .. 34.4 axis
            mid = (max(values) + min(values)) / 2
            vb.setYRange(max(mid - 2, 0), min(mid + 2, 100) if mid + 2 <= 100 else 100, padding=0.1)
        else:
            vb.enableAutoRange(axis="y")

    def show_kernels(self, model) -> None:
        """Draw ``model``'s kernels (on one scale centred at zero)."""
        if model is None:
            return
        c, K = model.config, model.params["K"].copy()
        self._draw("kernels", lambda: self._draw_kernels(c, K))

    def _draw_kernels(self, c, K) -> None:
        if (c.kernels, c.kernel_size) != self._arch:
            self._arch = (c.kernels, c.kernel_size)
            self.kernels.build(c.kernels, c.kernel_size, np.full((c.kernels, 4), 80, np.uint8))
        self.kernels.show(kernel_rgba(K, c.kernel_size, self._klut))
        self.kernels_updates += 1

    def show_confusion(self, confusion: np.ndarray) -> None:
        """Show a confusion matrix ``(10, 10)`` (:attr:`confusion` holds it at once)."""
        c = self.confusion = np.asarray(confusion, dtype=np.float64)
        self._draw("confusion", lambda: self._draw_confusion(c))

    def _draw_confusion(self, c: np.ndarray) -> None:
        top = max(float(c.max()), 1.0)
        self.confusion_image.setImage(c, autoLevels=False, levels=(0, top))
        dark, light = QBrush(QColor("black")), QBrush(QColor("white"))
        for idx, t in enumerate(self.confusion_texts):
            v = int(c.flat[idx])
            t.setText(str(v) if v else "")
            t.setBrush(dark if v > 0.6 * top else light)
        self._fit_counts()

    def cell_pixels(self) -> float:
        """The side of one cell of the confusion matrix on screen, in pixels."""
        vb = self.confusion_plot.getPlotItem().getViewBox()
        (x0, x1), (y0, y1) = vb.viewRange()
        return min(vb.width() / max(x1 - x0, 1e-9), vb.height() / max(y1 - y0, 1e-9))

    def _fit_counts(self) -> None:
        """The counts in a font that fits their cells (the widest count at most 90% of a
        cell); cells too small for a legible count (under 6 pixels) show none (the cell's
        colour and the gallery tell)."""
        cell = self.cell_pixels()
        widest = max(self.confusion_texts, key=lambda t: len(t.text()))
        digits = max(len(widest.text()), 1)
        font = QFont()
        size = 9.0
        font.setPointSizeF(size)
        from PySide6.QtGui import QFontMetricsF
        w = QFontMetricsF(font).horizontalAdvance("8" * digits)
        if w > 0.9 * cell:
            size = max(size * 0.9 * cell / w, 1.0)
            font.setPointSizeF(size)
        legible = QFontMetricsF(font).height() >= 6 and size >= 5
        for t in self.confusion_texts:
            t.setFont(font)
            t.setVisible(legible)
            r = t.boundingRect()
            t.setTransform(QTransform.fromTranslate(-r.width() / 2, -r.height() / 2))
