"""Views of what the network makes of the drawing: the prediction, and its insides."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import (QApplication, QGridLayout, QGroupBox, QLabel, QSizePolicy, QVBoxLayout,
                               QWidget)

from engine.net.reading import NOT_SURE_BELOW  # below it the prediction says "not sure"

from .colormaps import HIGHLIGHT, signed_cmap, symmetric_levels
from .detail_view import DetailView
from .mosaic import Mosaic, colourise, image_box, kernel_rgba, rgba_lut

__all__ = ["PredictionView", "NetView", "kernel_colours", "NOT_SURE_BELOW"]



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
        self.caption.setWordWrap(True)             # (a long verdict wraps instead of being cut)
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
        self.bars_plot.setMinimumHeight(80)

        self.input_widget = pg.GraphicsLayoutWidget()
        self.input_widget.setBackground(base)
        self.input_widget.setToolTip("The 28x28 image the network receives")
        self.input_vb, self.input_item = image_box(self.input_widget.ci)
        self.input_item.setImage(np.zeros((28, 28), np.float32), levels=(0, 1))
        self.attribution_item = pg.ImageItem(axisOrder="row-major")    # the Why? tab's map
        self.input_vb.addItem(self.attribution_item)
        self.attribution_item.setVisible(False)
        self.input_widget.setMinimumSize(80, 80)

        self.model_label = QLabel()
        self.model_label.setAlignment(Qt.AlignCenter)
        self.model_label.setWordWrap(True)
        self.model_label.setToolTip("The model that reads the drawing")
        self.compare = self._build_compare(base)

        self.setMinimumWidth(140)
        lay = QVBoxLayout(self)
        lay.addWidget(self.digit)
        lay.addWidget(self.caption)
        lay.addWidget(self.model_label)
        lay.addWidget(self.bars_plot, 2)
        lay.addWidget(self.input_widget, 2)
        lay.addWidget(self.compare, 2)

    def _build_compare(self, base) -> QWidget:
        """Both inputs and both readings side by side (shown while preprocessing is off)."""
        box = QGroupBox()
        grid = QGridLayout(box)
        grid.setContentsMargins(4, 4, 4, 4)
        self.compare_title = QLabel("<b>Why preprocess?</b> The same drawing both ways")
        self.compare_title.setWordWrap(True)         # (a group box's title would be cut)
        self.compare_widget = pg.GraphicsLayoutWidget()
        self.compare_widget.setBackground(base)
        self.compare_widget.setMinimumSize(120, 60)
        self.compare_pre_vb, self.compare_pre_item = image_box(self.compare_widget.ci)
        self.compare_raw_vb, self.compare_raw_item = image_box(self.compare_widget.ci)
        self.compare_pre_label, self.compare_raw_label = QLabel(), QLabel()
        grid.addWidget(self.compare_title, 0, 0, 1, 2)
        grid.addWidget(self.compare_widget, 1, 0, 1, 2)
        # a row each, the full width (side by side they were cut in a narrow column), on the
        # side of their image
        for row, lab, side in ((2, self.compare_pre_label, Qt.AlignLeft),
                               (3, self.compare_raw_label, Qt.AlignRight)):
            lab.setAlignment(side | Qt.AlignVCenter)
            lab.setWordWrap(True)
            grid.addWidget(lab, row, 0, 1, 2)
        box.setVisible(False)
        return box

    def restyle(self) -> None:
        """Take the bars' colours from the current palette (after a theme change)."""
        pal = QApplication.instance().palette()        # (the widget's own follows a moment later)
        self._bar_brush = pg.mkBrush(pal.color(QPalette.Mid))
        self._top_brush = pg.mkBrush(pal.color(QPalette.Highlight))
        heights = np.asarray(self.bars.opts["height"], dtype=float)
        brushes = [self._bar_brush] * 10
        if heights.any():
            brushes[int(np.argmax(heights))] = self._top_brush
        self.bars.setOpts(brushes=brushes)

    def set_attribution(self, map28) -> None:
        """Draw an attribution map ``(28, 28)`` over the network's input (red: ink that pushed
        towards the reading, blue: away); None: none."""
        if map28 is None:
            self.attribution_item.setVisible(False)
            return
        from engine.explain.backmap import attribution_rgba
        self.attribution_item.setImage(attribution_rgba(np.asarray(map28)), autoLevels=False)
        self.attribution_item.setVisible(True)

    def set_model_name(self, text: str) -> None:
        """Say which model reads the drawing."""
        self.model_label.setText(f"read by: {text}")

    def show_comparison(self, pre=None, raw=None) -> None:
        """Show the preprocessed and the raw input side by side with their readings:
        ``pre`` and ``raw`` are ``(image (28, 28), probabilities (10,))``; None hides the view."""
        if pre is None or raw is None:
            self.compare.setVisible(False)
            return
        for (img, p), item, label, what in ((pre, self.compare_pre_item, self.compare_pre_label,
                                             "preprocessed"),
                                            (raw, self.compare_raw_item, self.compare_raw_label, "as drawn")):
            item.setImage(np.asarray(img, np.float32), autoLevels=False, levels=(0, 1))
            d = int(np.argmax(p))
            label.setText(f"{what}: {d} ({float(p[d]):.0%})")
        self.compare.setVisible(True)

    def update_prediction(self, proba: np.ndarray | None, image28: np.ndarray | None, empty: bool,
                          verdict: str | None = None) -> None:
        """Show probabilities ``(10,)`` and the network input ``(28, 28)``.

        ``empty``: nothing is drawn (the bars drop to zero and no digit is shown).
        ``verdict``: :func:`engine.read`'s verdict, shown as it is: ``"digit"``, ``"not sure"``
        (it names the runner-up too) or ``"not a digit"``; None: the top probability's
        (``"not sure"`` under :data:`engine.net.reading.NOT_SURE_BELOW`).
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
        if verdict is None:
            verdict = "digit" if p >= NOT_SURE_BELOW else "not sure"
        if verdict == "not a digit":
            self.digit.setText("?")
            self.digit.setEnabled(False)
            self.caption.setText(f"not a digit (if it is one: {best}, {p:.0%})")
            return
        self.digit.setText(str(best))
        sure = verdict == "digit"
        self.digit.setEnabled(sure)   # greyed out when not sure, in any palette
        self.caption.setText(f"{p:.0%} sure" if sure else
                             f"not sure: {best} ({p:.0%}) or {second} ({float(proba[second]):.0%})")


class NetView(QWidget):
    """What the network sees: kernels, the feature map of every kernel, where the selected
    kernel wins, the pooled layer, and the selected kernel and its map, large.

    Signed values (weights, maps, the pooled layer) are drawn on a colour-blind-safe
    diverging scale centred at zero, with colour bars. Clicking a kernel (or its feature
    map) selects it: it is framed, drawn large with values on hover, and the winner view
    shows in orange the positions where it wins; clicking it again deselects it. With no
    ink on the canvas the maps are empty and say so.
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        self._arch = None
        self._selected = -1
        self._colours = np.zeros((0, 4), np.uint8)
        base = _palette_colours(self)[0]
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
        self.winner_widget.setToolTip("Grey: how strongly the winning kernel responds at each position. "
                                      "Orange: where the selected kernel wins")
        self.pooled_widget.setToolTip("The pooled layer: tanh of the largest response at each position")
        self.maps_bar = pg.ColorBarItem(values=(-1, 1), colorMap=signed_cmap(), interactive=False, width=10)
        self.pooled_bar = pg.ColorBarItem(values=(-1, 1), colorMap=signed_cmap(), interactive=False, width=10)
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
        self.maps_widget.ci.addItem(self.maps_bar)
        self.pooled_widget.ci.addItem(self.pooled_bar)
        self.detail = DetailView()
        self.empty = True
        self.legend = QLabel()
        self.legend.setWordWrap(False)          # one line (the whole text in the tooltip)
        self.legend.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Fixed)
        self.legend.setTextFormat(Qt.RichText)
        self.legend.setToolTip("What the winner view shows")
        self.kernels_widget.scene().sigMouseClicked.connect(lambda ev: self._clicked(ev, self.kernels))
        self.maps_widget.scene().sigMouseClicked.connect(lambda ev: self._clicked(ev, self.maps))

        self.kernel_cmap = signed_cmap()        # diverging, centred at zero
        self.map_cmap = signed_cmap()
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
                        group("Selected kernel", self.detail),
                        group("Where the selected kernel wins", self.winner_widget, self.legend),
                        group("Pooled layer", self.pooled_widget)]
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(2, 2, 2, 2)
        self._columns = 0
        self._arrange(2)

    def _arrange(self, columns: int) -> None:
        """Lay the five groups out in ``columns`` columns (5: a row, 3 or 2: a grid)."""
        if columns == self._columns:
            return
        self._columns = columns
        n = len(self._groups)
        rows = -(-n // columns)
        for g in self._groups:
            self._grid.removeWidget(g)
        for i, g in enumerate(self._groups):
            self._grid.addWidget(g, i // columns, i % columns)
        for i in range(n):
            self._grid.setColumnStretch(i, 1 if i < columns else 0)
            self._grid.setRowStretch(i, 1 if i < rows else 0)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._rearrange()

    def fit_width(self, width: int) -> None:
        """The view will be ``width`` pixels wide (its scroll area says so before laying
        it out): use no more columns than fit."""
        self._fit = int(width)
        self._rearrange()

    def _rearrange(self) -> None:
        width = min(self.width(), getattr(self, "_fit", self.width()))
        parent = self.parentWidget()
        height = parent.height() if parent is not None else self.height()    # (the scroll area's)
        ratio = width / max(height, 1)
        wanted = 5 if ratio > 3.0 else 3 if ratio > 0.8 else 2
        group = max(g.minimumSizeHint().width() for g in self._groups) + self._grid.spacing()
        self._arrange(max(1, min(wanted, (width + self._grid.spacing()) // max(group, 1))))

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

    def _build(self, k: int, f: int, r: int) -> None:
        """(Re)create the grids for ``k`` kernels of side ``f`` and maps of side ``r``."""
        self._arch = (k, f, r)
        self._selected = -1
        text = self.palette().color(QPalette.Text)
        self._colours = np.tile(np.array([[text.red(), text.green(), text.blue(), 255]], np.uint8), (k, 1))
        self.kernels.build(k, f, self._colours)
        self.maps.build(k, r, self._colours)
        self.kernels_widget.setToolTip(f"The kernels (weights of each {f}x{f} filter). "
                                       "Click one to select it.")
        self._apply_highlight()
        self._say_winner()

    # -- updating -----------------------------------------------------------------
    def update_views(self, model, fwd, empty: bool = False) -> None:
        """Show the forward pass ``fwd`` (a :class:`engine.net.model.Forward` of one image)
        of ``model``; rebuilds the grids only when the architecture changes, redraws the
        kernels only when the model changes. ``empty``: nothing is drawn (the maps, the
        winner view and the pooled layer stay blank).

        The arrays are coloured here (one vectorised look-up for all maps) and handed to
        the ImageItems as RGBA bytes, which they draw without further conversion.
        """
        c = model.config
        self._model = model
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
        self.empty = bool(empty)
        maps = np.asarray(fwd.maps[0], dtype=np.float32)               # (k, r, r)
        pooled = np.asarray(fwd.pooled[0], dtype=np.float32).reshape(c.side, c.side)
        self.maps_shown = maps
        self.pooled_shown = pooled
        self._winner = np.asarray(fwd.winner[0])
        if self.empty:                       # nothing drawn: nothing to see yet
            self.maps.show(np.zeros(maps.shape + (4,), np.uint8))
            self.pooled_item.setImage(np.zeros(pooled.shape + (4,), np.uint8), autoLevels=False)
        else:
            lo, hi = symmetric_levels(np.percentile(np.abs(maps), 99.5))   # (a few outliers saturate)
            self.maps.show(colourise(maps, lo, hi, self._mlut))       # (k, r, r, 4)
            self.maps_bar.setLevels((lo, hi))
            lo, hi = symmetric_levels(pooled)
            self.pooled_item.setImage(colourise(pooled, lo, hi, self._mlut), autoLevels=False)
            self.pooled_bar.setLevels((lo, hi))
        self._paint_winner()
        self._show_detail()

    def winner_rgba(self) -> np.ndarray:
        """The winner view ``(r, r, 4)`` uint8: grey as bright as the pooled response
        differs from the blank canvas's (the top-left corner's: dark where the kernels see
        nothing), orange where the selected kernel wins (dim orange where it wins over blank
        canvas only)."""
        pooled = np.nan_to_num(self.pooled_shown)
        away = np.abs(pooled - pooled[0, 0])
        top = float(away.max())
        norm = away / top if top > 0 else np.zeros_like(pooled)
        g = (30 + 210 * norm).astype(np.uint8)
        rgba = np.stack([g, g, g, np.full_like(g, 255)], axis=-1)
        if self._selected >= 0:
            wins = self._winner == self._selected
            strong = norm > 0.2
            rgba[wins & strong, :3] = HIGHLIGHT
            rgba[wins & ~strong, :3] = (np.array(HIGHLIGHT) * 0.45).astype(np.uint8)
        return rgba

    def _paint_winner(self) -> None:
        if getattr(self, "_winner", None) is None or self.pooled_shown is None:
            return
        if self.empty:
            self.winner_item.setImage(np.zeros(self._winner.shape + (4,), np.uint8), autoLevels=False)
        else:
            self.winner_item.setImage(self.winner_rgba(), autoLevels=False, levels=(0, 255))
        self._say_winner()

    def _say_winner(self) -> None:
        if self.empty:
            self.legend.setText("Draw a digit to see the maps")
        elif self._selected < 0:
            self.legend.setText("Click a kernel to see where it wins")
        else:
            w = getattr(self, "_winner", None)
            n = int((w == self._selected).sum()) if w is not None else 0
            total = int(w.size) if w is not None else 0
            self.legend.setText(f"Orange: kernel {self._selected + 1} wins ({n} of {total})")

    def _show_detail(self) -> None:
        i, model = self._selected, getattr(self, "_model", None)
        if i < 0 or model is None or self._arch is None:
            self.detail.clear()
            return
        f = self._arch[1]
        K = np.asarray(model.params["K"], dtype=np.float32).reshape(-1, f, f)
        fmap = None if self.empty or self.maps_shown is None else self.maps_shown[i]
        self.detail.show_kernel(i, K[i], fmap)

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
        self._show_detail()

    def _apply_highlight(self) -> None:
        i = self._selected
        colour = QColor(*HIGHLIGHT) if 0 <= i < len(self._colours) else None
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
