"""One picture of many small images: the kernels or the feature maps, tiled.

:class:`Mosaic` draws ``k`` square images as one RGBA image in one ViewBox, with a number
above each and a frame for the highlighted one. The net view shows the kernels and the
feature maps with it, the training panel the kernels being learnt.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QTransform
from PySide6.QtWidgets import QGraphicsItem, QGraphicsItemGroup, QGraphicsRectItem, QGraphicsSimpleTextItem

__all__ = ["Mosaic", "image_box", "rgba_lut", "colourise", "kernel_rgba", "KERNEL_CMAP"]

KERNEL_CMAP = "CET-CBD1"
"""Diverging colour map of signed weights, centred at zero (:data:`app.reading.colormaps.SIGNED`)."""


def image_box(layout: pg.GraphicsLayout):
    """A ViewBox (aspect locked, y downwards, no mouse interaction) added to a pyqtgraph
    layout, holding one row-major ImageItem; returns (viewbox, item)."""
    vb = layout.addViewBox(lockAspect=True, invertY=True, enableMouse=False, enableMenu=False)
    vb.setDefaultPadding(0.0)
    item = pg.ImageItem(axisOrder="row-major")
    vb.addItem(item)
    return vb, item


def rgba_lut(cmap) -> np.ndarray:
    """A colour map as a (256, 4) uint8 RGBA table."""
    lut = np.asarray(cmap.getLookupTable(nPts=256, alpha=True), dtype=np.uint8)
    if lut.shape[1] == 3:
        lut = np.concatenate([lut, np.full((256, 1), 255, np.uint8)], axis=1)
    return lut


def colourise(values: np.ndarray, lo: float, hi: float, lut: np.ndarray) -> np.ndarray:
    """Map ``values`` (any shape) linearly from [lo, hi] onto ``lut`` (256, 4): uint8 (..., 4)."""
    span = hi - lo if hi > lo else 1.0
    idx = np.clip((np.asarray(values, dtype=np.float32) - lo) * (255.0 / span), 0, 255).astype(np.uint8)
    return lut[idx]


def kernel_rgba(K: np.ndarray, f: int, lut: np.ndarray) -> np.ndarray:
    """Kernels ``(k, f*f)`` as images ``(k, f, f, 4)`` uint8 on one scale centred at zero."""
    K = np.nan_to_num(np.asarray(K, dtype=np.float32)).reshape(-1, f, f)
    kmax = float(np.abs(K).max()) or 1.0
    return colourise(K, -kmax, kmax, lut)


class Mosaic:
    """``k`` square images of side ``s`` tiled into one RGBA image shown by one ImageItem.

    One ViewBox, one ImageItem, one number above each cell and one frame for the
    highlighted cell: building it costs a few plain text items instead of a ViewBox, a
    label and a layout cell per image (about 3 ms each), and drawing it is one image upload.
    The numbers are ``QGraphicsSimpleTextItem`` s that ignore the view's scaling (constant
    size on screen), about 0.03 ms each to create where a ``pg.TextItem`` costs 0.6 ms;
    they are kept when the layout shrinks and reused when it grows.

    The cells are laid out ``rows x cols`` (``cols = ceil(sqrt(k))``); each is ``s`` wide
    plus a gap of ``gap`` on its right, and ``band + s`` tall, the band above the image
    holding the number. View coordinates are image pixels, y downwards.

    Attributes
    ----------
    vb, item : the ViewBox and its ImageItem.
    geom : tuple or None
        ``(rows, cols, s, gap, band)`` once built.
    cells : list of QRectF
        The whole cell of each image (band and image), in view coordinates.
    image : ndarray or None
        ``(rows * (band + s), cols * (s + gap), 4)`` uint8 RGBA, transparent between images.
    labels : list of QGraphicsSimpleTextItem
        Number ``i + 1`` is ``labels[i]``; the first ``k`` are shown, the rest hidden.
    frame : QGraphicsRectItem
        The highlight frame (hidden when nothing is highlighted).
    """

    def __init__(self, layout: pg.GraphicsLayout):
        self.vb, self.item = image_box(layout)
        self.geom = None
        self.cells: list = []
        self.image = None
        self.labels: list = []
        self.numbers = QGraphicsItemGroup()       # parent of the labels, above the image
        self.numbers.setZValue(5)
        self.vb.addItem(self.numbers)
        self.frame = QGraphicsRectItem()
        self.frame.setVisible(False)
        self.frame.setZValue(10)
        self.vb.addItem(self.frame)

    @staticmethod
    def geometry(k: int, s: int) -> tuple[int, int, int, int, int]:
        """``(rows, cols, s, gap, band)`` for ``k`` cells of side ``s``."""
        cols = max(1, int(np.ceil(np.sqrt(k))))
        rows = max(1, int(np.ceil(k / cols)))
        return rows, cols, s, max(1, s // 8), max(4, int(round(s * 0.55)))

    def build(self, k: int, s: int, colours: np.ndarray) -> None:
        """Lay out ``k`` cells of side ``s``; ``colours`` ``(k, 4)`` uint8 colour the numbers."""
        self.geom = rows, cols, s, gap, band = self.geometry(k, s)
        self.image = np.zeros((rows * (band + s), cols * (s + gap), 4), np.uint8)   # transparent
        idx = np.arange(k)
        x0 = (idx % cols) * (s + gap)
        y0 = (idx // cols) * (band + s)
        self.cells = [QRectF(float(x), float(y), s, band + s) for x, y in zip(x0, y0)]
        while len(self.labels) < k:
            label = QGraphicsSimpleTextItem(f"{len(self.labels) + 1}", self.numbers)
            font = label.font()
            font.setPointSizeF(7.0)            # small: the numbers must not cover the images
            label.setFont(font)
            label.setFlag(QGraphicsItem.ItemIgnoresTransformations)
            br = label.boundingRect()        # in screen pixels: centred above the cell's image
            label.setTransform(QTransform.fromTranslate(-br.width() / 2.0, -br.height() - 1.0))
            self.labels.append(label)
        for i, label in enumerate(self.labels):
            label.setVisible(i < k)
        for i in range(k):
            self.labels[i].setBrush(QColor(*(int(v) for v in colours[i][:3])))
            self.labels[i].setPos(float(x0[i]) + s / 2.0, float(y0[i] + band))
        self.frame.setVisible(False)
        self.item.setImage(self.image, autoLevels=False)
        self.vb.setRange(QRectF(0, 0, self.image.shape[1], self.image.shape[0]), padding=0)

    def show(self, rgba: np.ndarray) -> None:
        """Draw ``rgba`` ``(k, s, s, 4)`` uint8 into the cells (one vectorised copy)."""
        rows, cols, s, gap, band = self.geom
        k = len(self.cells)
        cells = np.zeros((rows * cols, s, s, 4), np.uint8)
        cells[:k] = rgba
        grid = self.image.reshape(rows, band + s, cols, s + gap, 4)
        grid[:, band:, :, :s] = cells.reshape(rows, cols, s, s, 4).transpose(0, 2, 1, 3, 4)
        self.item.setImage(self.image, autoLevels=False)

    def image_rect(self, index: int) -> QRectF:
        """The image part of cell ``index`` (without its number band), view coordinates."""
        return self.cells[index].adjusted(0, self.geom[4], 0, 0)

    def highlight(self, index: int, colour: QColor | None) -> None:
        """Frame cell ``index`` in ``colour``; -1 (or an index out of range) hides the frame."""
        if 0 <= index < len(self.cells) and colour is not None:
            pen = pg.mkPen(colour, width=3)
            pen.setCosmetic(True)
            self.frame.setPen(pen)
            self.frame.setRect(self.image_rect(index))
            self.frame.setVisible(True)
        else:
            self.frame.setVisible(False)

    def index_at(self, scene_pos) -> int:
        """The cell (number band or image) at scene position ``scene_pos``, or -1."""
        if self.geom is None or not self.vb.sceneBoundingRect().contains(scene_pos):
            return -1
        p = self.vb.mapSceneToView(scene_pos)
        rows, cols, s, gap, band = self.geom
        x, y = p.x(), p.y()
        if x < 0 or y < 0:
            return -1
        col, row = int(x // (s + gap)), int(y // (band + s))
        i = row * cols + col
        if col >= cols or x - col * (s + gap) >= s or i >= len(self.cells):
            return -1
        return i

    def cell_center(self, index: int):
        """Scene position of the centre of cell ``index``'s image."""
        return self.vb.mapViewToScene(self.image_rect(index).center())
