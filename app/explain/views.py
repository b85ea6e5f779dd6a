"""The views of the explanation panel: an attribution image, a grid of readings, a
gallery of look-alikes and a 2-D map of the hidden layer."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QApplication, QGridLayout, QLabel, QSizePolicy, QWidget

from engine.explain.backmap import attribution_rgba

from ..reading.qimages import gray_qimage

__all__ = ["AttributionView", "DigitGrid", "Gallery", "HiddenMap", "CLASS_COLOURS",
           "composite",
           "kernel_icon_image"]

CLASS_COLOURS = np.array([[31, 119, 180, 255], [255, 127, 14, 255], [44, 160, 44, 255], [214, 39, 40, 255],
                          [148, 103, 189, 255], [140, 86, 75, 255], [227, 119, 194, 255], [127, 127, 127, 255],
                          [188, 189, 34, 255], [23, 190, 207, 255]], dtype=np.uint8)
"""One colour a class (a ten-colour categorical palette): ``(10, 4)`` uint8 RGBA."""


class AttributionView(pg.GraphicsLayoutWidget):
    """The 28x28 input in grey with the attribution drawn over it (red: towards the class,
    blue: away from it)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setBackground(self.palette().color(QPalette.Base))
        self.vb = self.ci.addViewBox(lockAspect=True, invertY=True, enableMouse=False, enableMenu=False)
        self.vb.setDefaultPadding(0.0)
        self.base = pg.ImageItem(axisOrder="row-major")
        self.over = pg.ImageItem(axisOrder="row-major")
        self.vb.addItem(self.base)
        self.vb.addItem(self.over)
        self.base.setImage(np.zeros((28, 28), np.float32), levels=(0, 1))
        self.over.setImage(np.zeros((28, 28, 4), np.uint8))
        self.setMinimumSize(140, 140)
        self.attribution: np.ndarray | None = None

    def sizeHint(self) -> QSize:
        # small: a page that scrolls asks for its children's preferred heights (it grows
        # with its stretch anyway)
        return self.minimumSize()
        self.rgba: np.ndarray | None = None

    def show_map(self, image28: np.ndarray | None, attribution: np.ndarray | None) -> None:
        """Show the input ``(28, 28)`` dimmed under ``attribution`` ``(28, 28)`` (None: none)."""
        if image28 is not None:
            self.base.setImage(0.45 * np.asarray(image28, np.float32), autoLevels=False, levels=(0, 1))
        self.attribution = None if attribution is None else np.asarray(attribution)
        self.rgba = (np.zeros((28, 28, 4), np.uint8) if attribution is None
                     else attribution_rgba(attribution, alpha=255))
        self.over.setImage(self.rgba, autoLevels=False, levels=(0, 255))


class DigitGrid(QWidget):
    """A grid of readings: each cell shows the digit read, coloured by the probability
    of the original reading (bright: kept, dark red: another digit).

    The cells' contents are public: :attr:`reads` ``(R, C)`` int and :attr:`confidence`
    ``(R, C)`` float (probability of the original reading).
    """

    def __init__(self, parent=None, cell: int = 26):
        super().__init__(parent)
        self._cell = cell
        self.reads = np.zeros((0, 0), int)
        self.confidence = np.zeros((0, 0))
        self.reading = -1
        self.row_labels: list[str] = []
        self.col_labels: list[str] = []
        self.highlight: tuple[int, int] | None = None
        self.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Fixed)

    def set_values(self, proba: np.ndarray, reading: int, row_labels=(), col_labels=(),
                   highlight: tuple[int, int] | None = None) -> None:
        """Show probabilities ``(R, C, 10)`` against the original ``reading``."""
        proba = np.asarray(proba)
        self.reads = proba.argmax(axis=-1)
        self.confidence = proba[..., reading]
        self.reading = int(reading)
        self.row_labels = [str(s) for s in row_labels]
        self.col_labels = [str(s) for s in col_labels]
        self.highlight = highlight
        self.updateGeometry()
        self.update()

    def _margins(self) -> tuple[int, int]:
        fm = self.fontMetrics()
        left = max([fm.horizontalAdvance(s) for s in self.row_labels] + [0]) + (6 if self.row_labels else 0)
        top = fm.height() + 2 if self.col_labels else 0
        return left, top

    def sizeHint(self) -> QSize:
        left, top = self._margins()
        r, c = self.reads.shape if self.reads.size else (1, 1)
        return QSize(left + c * self._cell + 2, top + r * self._cell + 2)

    minimumSizeHint = sizeHint

    def cell_colour(self, i: int, j: int) -> QColor:
        p = float(self.confidence[i, j])
        if self.reads[i, j] == self.reading:
            return QColor.fromHsvF(0.33, 0.75, 0.35 + 0.6 * p)      # green, brighter when surer
        return QColor.fromHsvF(0.0, 0.8, 0.45 + 0.5 * (1 - p))      # red: read as another digit

    def paintEvent(self, event) -> None:
        if not self.reads.size:
            return
        p = QPainter(self)
        left, top = self._margins()
        s = self._cell
        text = self.palette().color(QPalette.WindowText)
        p.setPen(text)
        for j, lab in enumerate(self.col_labels):
            p.drawText(QRectF(left + j * s, 0, s, top), Qt.AlignCenter, lab)
        for i, lab in enumerate(self.row_labels):
            p.drawText(QRectF(0, top + i * s, left - 4, s), Qt.AlignRight | Qt.AlignVCenter, lab)
        f = QFont(self.font())
        f.setBold(True)
        p.setFont(f)
        R, C = self.reads.shape
        for i in range(R):
            for j in range(C):
                rect = QRectF(left + j * s, top + i * s, s - 1, s - 1)
                p.fillRect(rect, self.cell_colour(i, j))
                p.setPen(Qt.white)
                p.drawText(rect, Qt.AlignCenter, str(int(self.reads[i, j])))
        if self.highlight is not None:
            i, j = self.highlight
            p.setPen(pg.mkPen(self.palette().color(QPalette.Highlight), width=2))
            p.drawRect(QRectF(left + j * s, top + i * s, s - 1, s - 1))
        p.end()


class Gallery(QWidget):
    """A row of small images with captions (the nearest training images)."""

    def __init__(self, parent=None, count: int = 8, size: int = 56):
        super().__init__(parent)
        self._size = size
        self._grid = lay = QGridLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.images: list[QLabel] = []
        self.captions: list[QLabel] = []
        for i in range(count):
            im, cap = QLabel(), QLabel(" ")
            im.setFixedSize(size, size)
            im.setAlignment(Qt.AlignCenter)
            cap.setAlignment(Qt.AlignCenter)
            self.images.append(im)
            self.captions.append(cap)
        self._columns = 0
        self.set_columns(count)

    def columns_for(self, width: int) -> int:
        """How many images a row ``width`` pixels wide holds: all, half, or a quarter of them."""
        n = len(self.images)
        step = self._size + max(self._grid.horizontalSpacing(), 0)
        for columns in (n, -(-n // 2), -(-n // 4)):
            if columns * step <= width:
                return columns
        return max(1, -(-n // 4))

    def set_columns(self, columns: int) -> None:
        """The images in rows of ``columns``, each over its caption."""
        if columns == self._columns:
            return
        self._columns = columns
        for im, cap in zip(self.images, self.captions):
            self._grid.removeWidget(im)
            self._grid.removeWidget(cap)
        for i, (im, cap) in enumerate(zip(self.images, self.captions)):
            r, c = divmod(i, columns)
            self._grid.addWidget(im, 2 * r, c)
            self._grid.addWidget(cap, 2 * r + 1, c)
        self._grid.invalidate()
        self.updateGeometry()

    def show_images(self, images01: np.ndarray, captions: list[str], tooltips: list[str] | None = None) -> None:
        """Show up to ``count`` images ``(n, h, w)`` in [0, 1] with their captions."""
        for i, (im, cap) in enumerate(zip(self.images, self.captions)):
            if i < len(images01):
                im.setPixmap(QPixmap.fromImage(gray_qimage(images01[i])).scaled(
                    self._size, self._size, Qt.KeepAspectRatio, Qt.FastTransformation))
                cap.setText(captions[i])
                im.setToolTip(tooltips[i] if tooltips else "")
            else:
                im.clear()
                cap.setText(" ")


class HiddenMap(pg.PlotWidget):
    """Test images as points on the first two principal components of the hidden layer,
    coloured by class, and the drawing as a large moving marker."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setBackground(self.palette().color(QPalette.Base))
        pi = self.getPlotItem()
        pi.setMenuEnabled(False)
        pi.hideButtons()
        pi.setLabel("bottom", "first principal component")
        pi.setLabel("left", "second")
        self.legend = pi.addLegend(offset=(-5, 5), labelTextSize="8pt", colCount=5)
        self.points: list[pg.ScatterPlotItem] = []
        ink = self.palette().color(QPalette.Text)
        self.marker = pg.ScatterPlotItem(size=26, symbol="star", pen=pg.mkPen(self.palette().color(QPalette.Base),
                                                                              width=1.5),
                                         brush=pg.mkBrush(ink))
        self.marker.setZValue(10)
        self.label = pg.TextItem("", color=ink, anchor=(-0.15, 1.1))
        f = QFont(self.font())
        f.setBold(True)
        self.label.setFont(f)
        self.label.setZValue(11)
        pi.addItem(self.marker)
        pi.addItem(self.label)
        self.setMinimumSize(180, 150)
        self.drawing_xy: np.ndarray | None = None

    def sizeHint(self) -> QSize:
        return self.minimumSize()        # (see AttributionView.sizeHint)

    def set_points(self, xy: np.ndarray, labels: np.ndarray) -> None:
        """Points ``(N, 2)`` with classes ``(N,)``."""
        pi = self.getPlotItem()
        for item in self.points:
            pi.removeItem(item)
            self.legend.removeItem(item)
        self.points = []
        for c in range(10):
            sel = labels == c
            col = CLASS_COLOURS[c]
            item = pg.ScatterPlotItem(xy[sel, 0], xy[sel, 1], size=5, pen=None,
                                      brush=pg.mkBrush(int(col[0]), int(col[1]), int(col[2]), 170), name=str(c))
            pi.addItem(item)
            self.points.append(item)
        pi.enableAutoRange()

    def set_drawing(self, xy: np.ndarray | None, text: str = "") -> None:
        """Move the drawing's marker to ``xy`` ``(2,)`` (None hides it)."""
        self.drawing_xy = None if xy is None else np.asarray(xy, dtype=float)
        if xy is None:
            self.marker.setData([], [])
            self.label.setText("")
            return
        pal = QApplication.instance().palette()          # (the theme may have changed)
        ink = pal.color(QPalette.Text)
        self.marker.setData([float(xy[0])], [float(xy[1])], brush=pg.mkBrush(ink),
                            pen=pg.mkPen(pal.color(QPalette.Base), width=1.5))
        self.label.setColor(ink)
        self.label.setText(text)
        self.label.setPos(float(xy[0]), float(xy[1]))


def kernel_icon_image(kernel: np.ndarray, size: int = 20) -> QImage:
    """A kernel ``(f, f)`` as a grey image scaled to ``size`` pixels (its own range)."""
    k = np.asarray(kernel, dtype=np.float64)
    span = k.max() - k.min()
    img = gray_qimage((k - k.min()) / span if span > 0 else np.zeros_like(k))
    return img.scaled(size, size, Qt.IgnoreAspectRatio, Qt.FastTransformation)


def composite(image01: np.ndarray, rgba: np.ndarray | None) -> np.ndarray:
    """The drawing ``(H, W)`` in [0, 1] (dimmed grey) under an overlay ``(H, W, 4)``:
    ``(H, W, 3)`` uint8."""
    base = np.repeat((0.45 * np.clip(np.asarray(image01, np.float64), 0, 1) * 255.0)[..., None], 3, axis=2)
    if rgba is None:
        return base.astype(np.uint8)
    a = rgba[..., 3:4].astype(np.float64) / 255.0
    return np.round(base * (1 - a) + rgba[..., :3] * a).astype(np.uint8)
