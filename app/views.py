"""Views of what the network makes of the drawing: the prediction, and its insides."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import (QGridLayout, QGroupBox, QLabel, QSizePolicy, QVBoxLayout, QWidget)

from .mosaic import KERNEL_CMAP, Mosaic, colourise, image_box, kernel_rgba, rgba_lut

__all__ = ["PredictionView", "NetView", "kernel_colours", "NOT_SURE_BELOW"]

NOT_SURE_BELOW = 0.5
"""Below this best probability the prediction says "not sure"."""


def kernel_colours(k: int) -> np.ndarray:
    """One distinct colour a kernel: ``(k, 4)`` uint8 RGBA."""
    cols = [pg.intColor(i, hues=max(k, 1), values=1, maxValue=255, minValue=150, sat=200)
            for i in range(k)]
    return np.array([[c.red(), c.green(), c.blue(), 255] for c in cols], dtype=np.uint8)


def _palette_colours(widget: QWidget) -> tuple[QColor, QColor]:
    pal = widget.palette()
    return pal.color(QPalette.Base), pal.color(QPalette.Text)


def _params_version(model) -> int:
    """Changes when the kernels array is replaced (identity of the array object)."""
    return id(model.params["K"])


class PredictionView(QWidget):
    """The predicted digit in large type, the ten probabilities as bars, and the 28x28
    image the network receives."""

    def __init__(self, parent=None):
        super().__init__(parent)
        base, text = _palette_colours(self)
        self.digit = QLabel(" ")
        f = QFont(self.font())
        f.setPointSize(64)
        f.setBold(True)
        self.digit.setFont(f)
        self.digit.setAlignment(Qt.AlignCenter)
        self.digit.setToolTip("The digit the network reads")
        self.caption = QLabel("Draw a digit")
        self.caption.setAlignment(Qt.AlignCenter)
        self.caption.setToolTip(f"The network's confidence; \"not sure\" below {NOT_SURE_BELOW:.0%}")

        self.bars_plot = pg.PlotWidget(background=base)
        self.bars_plot.setToolTip("Probability of each digit")
        pi = self.bars_plot.getPlotItem()
        pi.setMouseEnabled(x=False, y=False)
        pi.setMenuEnabled(False)
        pi.hideButtons()
        pi.setYRange(-0.01, 1.04, padding=0)
        pi.setXRange(-0.6, 9.6, padding=0)
        for name in ("left", "bottom"):
            ax = pi.getAxis(name)
            ax.setPen(text)
            ax.setTextPen(text)
        pi.getAxis("bottom").setTicks([[(i, str(i)) for i in range(10)]])
        pi.getAxis("left").setTicks([[(v, f"{v:.1f}") for v in (0, 0.5, 1.0)]])
        pi.showGrid(y=True, alpha=0.25)
        self._bar_brush = pg.mkBrush(self.palette().color(QPalette.Mid))
        self._top_brush = pg.mkBrush(self.palette().color(QPalette.Highlight))
        self.bars = pg.BarGraphItem(x=np.arange(10), height=np.zeros(10), width=0.7,
                                    brushes=[self._bar_brush] * 10, pen=pg.mkPen(None))
        pi.addItem(self.bars)
        self.bars_plot.setMinimumHeight(150)

        self.input_widget = pg.GraphicsLayoutWidget()
        self.input_widget.setBackground(base)
        self.input_widget.setToolTip("The 28x28 image the network receives")
        self.input_vb, self.input_item = image_box(self.input_widget.ci)
        self.input_item.setImage(np.zeros((28, 28), np.float32), levels=(0, 1))
        self.input_widget.setMinimumSize(150, 150)

        self.setMinimumWidth(240)
        lay = QVBoxLayout(self)
        lay.addWidget(self.digit)
        lay.addWidget(self.caption)
        lay.addWidget(self.bars_plot, 2)
        lay.addWidget(self.input_widget, 2)

    def update_prediction(self, proba: np.ndarray | None, image28: np.ndarray | None, empty: bool,
                          digit: bool = True) -> None:
        """Show probabilities ``(10,)`` and the network input ``(28, 28)``.

        ``empty``: nothing is drawn (the bars drop to zero and no digit is shown).
        ``digit``: False when the drawing looks like no digit (``engine.nondigit``): it says so.
        When unsure it names the runner-up too.
        """
        if image28 is not None:
            self.input_item.setImage(image28, autoLevels=False, levels=(0, 1))
        if proba is None or empty:
            self.bars.setOpts(height=np.zeros(10), brushes=[self._bar_brush] * 10)
            self.digit.setText(" ")
            self.digit.setEnabled(True)
            self.caption.setText("Draw a digit")
            return
        order = np.argsort(proba)[::-1]
        best, second = int(order[0]), int(order[1])
        p = float(proba[best])
        brushes = [self._bar_brush] * 10
        brushes[best] = self._top_brush
        self.bars.setOpts(height=np.asarray(proba, dtype=float), brushes=brushes)
        if not digit:
            self.digit.setText("?")
            self.digit.setEnabled(False)
            self.caption.setText(f"not a digit (if it is one: {best}, {p:.0%})")
            return
        self.digit.setText(str(best))
        sure = p >= NOT_SURE_BELOW
        self.digit.setEnabled(sure)   # greyed out when not sure, in any palette
        self.caption.setText(f"{p:.0%} sure" if sure else
                             f"not sure: {best} ({p:.0%}) or {second} ({float(proba[second]):.0%})")


class NetView(QWidget):
    """What the network sees: kernels, the feature map of every kernel, the winning
    kernel at each position, and the pooled layer.

    Clicking a kernel (or its feature map) highlights it, its feature map and its colour
    in the winner map; clicking it again removes the highlight.
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        self._arch = None
        self._selected = -1
        self._colours = np.zeros((0, 4), np.uint8)
        base, text = _palette_colours(self)
        self._text = text

        self.kernels_widget = pg.GraphicsLayoutWidget()
        self.maps_widget = pg.GraphicsLayoutWidget()
        self.winner_widget = pg.GraphicsLayoutWidget()
        self.pooled_widget = pg.GraphicsLayoutWidget()
        for w in (self.kernels_widget, self.maps_widget, self.winner_widget, self.pooled_widget):
            w.setBackground(base)
            w.setMinimumSize(150, 150)
            w.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Ignored)
        self.kernels_widget.setToolTip("The kernels (the weights of each filter). Click one to highlight it.")
        self.maps_widget.setToolTip("Each kernel's response at every position over the drawing "
                                    "(shared colour scale). Click one to highlight it.")
        self.winner_widget.setToolTip("Which kernel responded most at each position, one colour a kernel")
        self.pooled_widget.setToolTip("The pooled layer: tanh of the largest response at each position")
        self.winner_vb, self.winner_item = image_box(self.winner_widget.ci)
        self.pooled_vb, self.pooled_item = image_box(self.pooled_widget.ci)
        # Kernels and feature maps: one mosaic image each (one ImageItem to draw instead of
        # one a kernel: 0.4 ms instead of 3.5 ms for 32 maps; and rebuilding the grid for a
        # new architecture costs a few TextItems instead of a ViewBox and a label a kernel),
        # with the kernel numbers as text above the cells and a frame for the highlight.
        self.kernels = Mosaic(self.kernels_widget.ci)
        self.maps = Mosaic(self.maps_widget.ci)
        self.kernels_vb, self.kernels_item, self.kernels_frame = \
            self.kernels.vb, self.kernels.item, self.kernels.frame
        self.maps_vb, self.maps_item, self.maps_frame = self.maps.vb, self.maps.item, self.maps.frame
        self.legend = QLabel()
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.RichText)
        self.legend.setToolTip("The colour of each kernel in the winner map")
        self.kernels_widget.scene().sigMouseClicked.connect(lambda ev: self._clicked(ev, self.kernels))
        self.maps_widget.scene().sigMouseClicked.connect(lambda ev: self._clicked(ev, self.maps))

        self.kernel_cmap = pg.colormap.get(KERNEL_CMAP)      # diverging: negative blue, positive red
        self.map_cmap = pg.colormap.get("viridis")
        self._klut = rgba_lut(self.kernel_cmap)
        self._mlut = rgba_lut(self.map_cmap)
        self._kernels_of = None
        self._kernels_version = None
        self.kernels_shown = self.maps_shown = self.pooled_shown = None

        def group(title, widget, extra=None):
            box = QGroupBox(title)
            v = QVBoxLayout(box)
            v.setContentsMargins(4, 4, 4, 4)
            v.addWidget(widget, 1)
            if extra is not None:
                v.addWidget(extra)
            return box

        self._groups = [group("Kernels", self.kernels_widget), group("Feature maps", self.maps_widget),
                        group("Winning kernel", self.winner_widget, self.legend),
                        group("Pooled layer", self.pooled_widget)]
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(2, 2, 2, 2)
        self._columns = 0
        self._arrange(2)

    def _arrange(self, columns: int) -> None:
        """Lay the four groups out in ``columns`` columns (4: a row, 2: a square)."""
        if columns == self._columns:
            return
        self._columns = columns
        for g in self._groups:
            self._grid.removeWidget(g)
        for i, g in enumerate(self._groups):
            self._grid.addWidget(g, i // columns, i % columns)
        for i in range(4):
            self._grid.setColumnStretch(i, 1 if i < columns else 0)
            self._grid.setRowStretch(i, 1 if i < 4 // columns else 0)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._arrange(4 if self.width() > 2.2 * self.height() else 2)

    # -- building -----------------------------------------------------------------
    def architecture(self):
        return self._arch

    @property
    def kernel_cells(self) -> list:
        """QRectF of each kernel's cell (number and image) in the kernels mosaic, view coordinates."""
        return self.kernels.cells

    @property
    def map_cells(self) -> list:
        """QRectF of each kernel's feature-map cell (number and map) in the maps mosaic."""
        return self.maps.cells

    @property
    def _mosaic_geom(self):
        """``(rows, cols, r, gap, band)`` of the feature-map mosaic."""
        return self.maps.geom

    def _build(self, k: int, f: int, r: int) -> None:
        """(Re)create the grids for ``k`` kernels of side ``f`` and maps of side ``r``."""
        self._arch = (k, f, r)
        self._selected = -1
        self._colours = kernel_colours(k)
        self.kernels.build(k, f, self._colours)
        self.maps.build(k, r, self._colours)
        self.kernels_widget.setToolTip(f"The kernels (weights of each {f}x{f} filter). "
                                       "Click one to highlight it.")
        swatches = " ".join(
            f'<span style="background-color: rgb({c[0]},{c[1]},{c[2]});">&nbsp;&nbsp;&nbsp;</span>&nbsp;{i + 1}'
            for i, c in enumerate(self._colours))
        self.legend.setText(swatches)
        self._apply_highlight()

    # -- updating -----------------------------------------------------------------
    def update_views(self, model, fwd) -> None:
        """Show the forward pass ``fwd`` (a :class:`engine.model.Forward` of one image)
        of ``model``; rebuilds the grids only when the architecture changes, redraws the
        kernels only when the model changes.

        The arrays are coloured here (one vectorised look-up for all maps) and handed to
        the ImageItems as RGBA bytes, which they draw without further conversion.
        """
        c = model.config
        arch = (c.kernels, c.kernel_size, c.side)
        if arch != self._arch:
            self._build(*arch)
            self._kernels_of = None
        if self._kernels_of is not model or self._kernels_version != _params_version(model):
            K = np.asarray(model.params["K"], dtype=np.float32).reshape(c.kernels, c.kernel_size, c.kernel_size)
            self.kernels.show(kernel_rgba(K, c.kernel_size, self._klut))   # (k, f, f, 4)
            self.kernels_shown = K
            self._kernels_of = model
            self._kernels_version = _params_version(model)
        maps = np.asarray(fwd.maps[0], dtype=np.float32)               # (k, r, r)
        self.maps.show(colourise(maps, float(maps.min()), float(maps.max()), self._mlut))   # (k, r, r, 4)
        self.maps_shown = maps
        self._winner = np.asarray(fwd.winner[0])
        self._paint_winner()
        pooled = np.asarray(fwd.pooled[0], dtype=np.float32).reshape(c.side, c.side)
        self.pooled_item.setImage(colourise(pooled, float(pooled.min()), float(pooled.max()), self._mlut),
                                  autoLevels=False)
        self.pooled_shown = pooled

    def _winner_colours(self) -> np.ndarray:
        cols = self._colours.copy()
        if self._selected >= 0:
            others = np.arange(len(cols)) != self._selected
            grey = cols[others, :3].astype(np.float32).mean(axis=1, keepdims=True)
            cols[others, :3] = (0.25 * cols[others, :3] + 0.35 * grey).astype(np.uint8)
        return cols

    def _paint_winner(self) -> None:
        if getattr(self, "_winner", None) is None:
            return
        rgba = self._winner_colours()[self._winner]               # (r, r, 4)
        self.winner_item.setImage(rgba, autoLevels=False, levels=(0, 255))

    # -- selection ----------------------------------------------------------------
    def selected_kernel(self) -> int:
        return self._selected

    def select_kernel(self, index: int) -> None:
        """Highlight kernel ``index`` (0-based) or none with -1."""
        index = int(index) if self._arch and 0 <= index < self._arch[0] else -1
        if index == self._selected:
            return
        self._selected = index
        self._apply_highlight()
        self._paint_winner()

    def _apply_highlight(self) -> None:
        i = self._selected
        colour = QColor(*(int(v) for v in self._colours[i][:3])) if 0 <= i < len(self._colours) else None
        self.kernels.highlight(i, colour)
        self.maps.highlight(i, colour)

    def _clicked(self, ev, mosaic: Mosaic) -> None:
        """A click on a cell of ``mosaic`` (kernels or maps) toggles that kernel's highlight."""
        i = mosaic.index_at(ev.scenePos())
        if i >= 0:
            self.select_kernel(-1 if i == self._selected else i)
            ev.accept()

    def kernel_cell_center(self, index: int):
        """Scene position of the centre of kernel ``index``'s image in the kernels mosaic (for tests)."""
        return self.kernels.cell_center(index)

    def map_cell_center(self, index: int):
        """Scene position of the centre of kernel ``index``'s feature map (for tests)."""
        return self.maps.cell_center(index)
