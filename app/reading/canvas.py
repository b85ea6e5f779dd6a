"""The drawing canvas: draw a digit with the mouse or a tablet pen."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (QColor, QCursor, QImage, QKeySequence, QPainter, QPainterPath, QPalette,
                           QPen, QPixmap)
from PySide6.QtWidgets import QSizePolicy, QWidget

from .qimages import gray_qimage, rgba_qimage

__all__ = ["DrawingCanvas", "Stroke", "DEFAULT_BRUSH_WIDTH", "CANVAS_SIZE"]

CANVAS_SIZE = 280
"""Side of the canvas's backing image, in its own pixels (ten times MNIST's 28)."""

DEFAULT_BRUSH_WIDTH = 24.0
"""Brush width in canvas pixels. A digit about two thirds of the canvas high (~187
pixels), scaled to MNIST's 20-pixel box, then has strokes as thick as MNIST's: measured
by benchmarks/mouse_check.py, mean thickness 1.94 pixels and 101 units of ink per
image, against 1.92 and 95 on MNIST's test set."""


@dataclass
class Stroke:
    """One stroke: the points it passed through (canvas pixels), its width, and whether
    it erases."""

    points: list = field(default_factory=list)
    width: float = DEFAULT_BRUSH_WIDTH
    erase: bool = False


def stroke_path(points) -> QPainterPath:
    """A smooth path through every one of ``points`` (list of QPointF): a Catmull-Rom
    spline, drawn as cubic Bezier segments, so the stroke passes through each pointer
    event and bends smoothly between them instead of showing the straight chords."""
    path = QPainterPath(points[0])
    n = len(points)
    if n == 1:
        return path
    if n == 2:
        path.lineTo(points[1])
        return path
    for i in range(n - 1):
        p0 = points[i - 1] if i > 0 else points[i]
        p1, p2 = points[i], points[i + 1]
        p3 = points[i + 2] if i + 2 < n else p2
        path.cubicTo(p1 + (p2 - p0) / 6.0, p2 - (p3 - p1) / 6.0, p2)
    return path


class DrawingCanvas(QWidget):
    """A square canvas to draw a digit on, white ink on black.

    Strokes are drawn anti-aliased with round caps and joins onto a backing image of
    ``size x size`` pixels (280 by default), shown scaled to the widget and kept square.

    Mouse: left button draws, right button erases. Keys: Delete, Backspace or Escape
    clears, Ctrl+Z undoes the last change (a stroke or a clear), Ctrl+Shift+Z (or Ctrl+Y)
    redoes it. A tablet pen draws (its eraser end erases). The cursor is a circle as wide
    as the brush; an empty canvas shows a hint.

    Signals
    -------
    imageChanged()
        The image changed: during a stroke (at every pointer move), at its end, on
        clear and undo. Consumers throttle.
    strokeFinished()
        A stroke ended (button released).
    historyChanged()
        What undo, redo and clear can do changed (:meth:`can_undo`, :meth:`can_redo`,
        :meth:`is_empty`).
    """

    imageChanged = Signal()
    strokeFinished = Signal()
    historyChanged = Signal()

    HINT = "Draw a digit here"

    def __init__(self, parent=None, size: int = CANVAS_SIZE, brush_width: float = DEFAULT_BRUSH_WIDTH):
        super().__init__(parent)
        self._size = int(size)
        self._brush = float(brush_width)
        self._strokes: list[Stroke] = []
        self._past: list[list[Stroke]] = []     # earlier drawings (undo)
        self._future: list[list[Stroke]] = []   # undone drawings (redo)
        self._current: Stroke | None = None
        self._background: QImage | None = None    # an image put on the canvas (set_image)
        self._base = self._blank()      # all finished strokes
        self._image = self._blank()     # finished strokes + the current one
        self._overlay: QImage | None = None   # explanations drawn over the drawing
        self._tablet_down = False
        self._notice: str | None = None       # a line at the canvas's foot (e.g. "getting ready")
        self.setMinimumSize(180, 180)
        sp = QSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        sp.setHeightForWidth(True)
        self.setSizePolicy(sp)
        self.setFocusPolicy(Qt.StrongFocus)
        self.setAttribute(Qt.WA_OpaquePaintEvent, False)
        self._cursor_key = None
        self._update_cursor()
        self.setToolTip("Draw a digit: left button draws, right button erases.\n"
                        "Delete or Escape clears, Ctrl+Z undoes, Ctrl+Shift+Z redoes.")

    # -- public API ---------------------------------------------------------------
    def image(self) -> np.ndarray:
        """The drawing, ``(size, size)`` float32 in [0, 1], white ink (1) on black (0)."""
        img = self._image
        ptr = img.constBits()
        a = np.frombuffer(ptr, dtype=np.uint8, count=img.sizeInBytes())
        a = a.reshape(img.height(), img.bytesPerLine())[:, :img.width()]
        return a.astype(np.float32) / np.float32(255.0)

    def canvas_size(self) -> int:
        """Side of the backing image in canvas pixels."""
        return self._size

    def strokes(self) -> list[Stroke]:
        """The finished strokes, oldest first (a copy of the list)."""
        return list(self._strokes)

    def is_empty(self) -> bool:
        return not self._strokes and self._current is None and self._background is None

    def brush_width(self) -> float:
        return self._brush

    def set_brush_width(self, width: float) -> None:
        """Width of the next strokes, in canvas pixels (at least 1)."""
        self._brush = max(1.0, float(width))
        self._update_cursor()

    def can_undo(self) -> bool:
        """Whether :meth:`undo` would change the drawing."""
        return bool(self._past) or self._current is not None

    def can_redo(self) -> bool:
        """Whether :meth:`redo` would bring a change back."""
        return bool(self._future)

    def _remember(self) -> None:
        """Keep the drawing as it is now for undo (a change follows); forget the redo list."""
        self._past.append(list(self._strokes))
        self._future.clear()

    def clear(self) -> None:
        """Remove every stroke (undoable)."""
        if self.is_empty():
            return
        self._current = None
        self._remember()
        self._strokes = []
        self._background = None
        self._rerender()

    def undo(self) -> None:
        """Undo the last change: a stroke (draw or erase), a clear."""
        if self._current is not None:
            self._current = None
        elif self._past:
            self._future.append(self._strokes)
            self._strokes = self._past.pop()
        else:
            return
        self._rerender()

    def redo(self) -> None:
        """Bring back the last change undone."""
        if not self._future or self._current is not None:
            return
        self._past.append(self._strokes)
        self._strokes = self._future.pop()
        self._rerender()

    def set_strokes(self, strokes) -> None:
        """Replace the drawing by ``strokes`` (list of :class:`Stroke`; undoable)."""
        self._remember()
        self._strokes = [Stroke([QPointF(p) for p in s.points], s.width, s.erase) for s in strokes]
        self._current = None
        self._rerender()

    def set_image(self, image01: np.ndarray) -> None:
        """Put an image on the canvas (replacing the drawing) that the user can draw over.

        Parameters
        ----------
        image01 : ndarray, (h, w)
            White ink (1) on black (0); scaled to the canvas (a 28x28 MNIST digit fills it).
        """
        self._background = gray_qimage(image01).scaled(self._size, self._size, Qt.IgnoreAspectRatio,
                                      Qt.SmoothTransformation).convertToFormat(QImage.Format_Grayscale8)
        self._strokes.clear()
        self._current = None
        self._rerender()

    # -- geometry -----------------------------------------------------------------
    def set_overlay(self, rgba) -> None:
        """Draw ``rgba`` ``(H, W, 4)`` uint8 (the canvas's size) over the drawing; None: nothing."""
        if rgba is None:
            self._overlay = None
        else:
            self._overlay = rgba_qimage(rgba)
        self.update()

    def set_notice(self, text: str | None) -> None:
        """Show ``text`` on one line at the foot of the canvas, over the drawing (None: none)."""
        if text != self._notice:
            self._notice = text
            self.update()

    def notice(self) -> str | None:
        """The line shown at the foot of the canvas, if any."""
        return self._notice

    def overlay(self) -> QImage | None:
        """The overlay drawn over the drawing, if any."""
        return self._overlay

    def sizeHint(self) -> QSize:
        return QSize(400, 400)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, w: int) -> int:
        return w

    def target_rect(self) -> QRectF:
        """Where the backing image is shown: the largest centred square in the widget."""
        side = float(min(self.width(), self.height()))
        return QRectF((self.width() - side) / 2.0, (self.height() - side) / 2.0, side, side)

    def to_canvas(self, pos: QPointF) -> QPointF:
        """A widget position as a position on the backing image (canvas pixels)."""
        r = self.target_rect()
        k = self._size / r.width() if r.width() > 0 else 1.0
        return QPointF((pos.x() - r.x()) * k, (pos.y() - r.y()) * k)

    # -- drawing ------------------------------------------------------------------
    def _blank(self) -> QImage:
        if getattr(self, "_background", None) is not None:
            return self._background.copy()
        img = QImage(self._size, self._size, QImage.Format_Grayscale8)
        img.fill(0)
        return img

    def _paint_stroke(self, painter: QPainter, s: Stroke) -> None:
        colour = QColor(0, 0, 0) if s.erase else QColor(255, 255, 255)
        pen = QPen(colour, s.width, Qt.SolidLine, Qt.RoundCap, Qt.RoundJoin)
        painter.setPen(pen)
        painter.setBrush(Qt.NoBrush)
        if len(s.points) == 1:
            # a click: a round dot
            painter.setPen(Qt.NoPen)
            painter.setBrush(colour)
            painter.drawEllipse(s.points[0], s.width / 2.0, s.width / 2.0)
        else:
            painter.drawPath(stroke_path(s.points))

    def _render(self, target: QImage, strokes) -> None:
        p = QPainter(target)
        p.setRenderHint(QPainter.Antialiasing, True)
        for s in strokes:
            self._paint_stroke(p, s)
        p.end()

    def _rerender(self) -> None:
        self._base = self._blank()
        self._render(self._base, self._strokes)
        self._refresh_current()
        self.update()
        self.imageChanged.emit()
        self.historyChanged.emit()

    def _refresh_current(self) -> None:
        if self._current is None:
            self._image = self._base
        else:
            self._image = self._base.copy()
            self._render(self._image, [self._current])

    def _begin(self, pos: QPointF, erase: bool) -> None:
        self._current = Stroke([self.to_canvas(pos)], self._brush, erase)
        self._refresh_current()
        self.update()
        self.imageChanged.emit()
        self.historyChanged.emit()

    def _extend(self, pos: QPointF) -> None:
        if self._current is None:
            return
        q = self.to_canvas(pos)
        last = self._current.points[-1]
        if abs(q.x() - last.x()) + abs(q.y() - last.y()) < 0.25:
            return
        self._current.points.append(q)
        self._refresh_current()
        self.update()
        self.imageChanged.emit()

    def _end(self, pos: QPointF | None = None) -> None:
        if self._current is None:
            return
        if pos is not None:
            self._extend(pos)
        stroke, self._current = self._current, None
        self._remember()
        self._strokes = self._strokes + [stroke]
        self._base = self._image
        self.update()
        self.imageChanged.emit()
        self.strokeFinished.emit()
        self.historyChanged.emit()

    def _update_cursor(self) -> None:
        """A circle as wide as the brush on screen (a cross at its centre)."""
        side = self.target_rect().width() if self.width() > 0 else float(self._size)
        d = max(3, int(round(self._brush * side / self._size)))
        if d == self._cursor_key:
            return
        self._cursor_key = d
        n = d + 4
        pm = QPixmap(n, n)
        pm.fill(Qt.transparent)
        p = QPainter(pm)
        p.setRenderHint(QPainter.Antialiasing, True)
        for colour, width in ((QColor(0, 0, 0, 200), 3.0), (QColor(255, 255, 255, 230), 1.2)):
            p.setPen(QPen(colour, width))
            p.drawEllipse(QRectF(2, 2, d, d))
        p.drawPoint(n // 2, n // 2)
        p.end()
        self.setCursor(QCursor(pm, n // 2, n // 2))

    def brush_cursor_diameter(self) -> int:
        """The diameter of the brush cursor's circle, in widget pixels."""
        return int(self._cursor_key)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._update_cursor()

    # -- events -------------------------------------------------------------------
    def paintEvent(self, event) -> None:
        p = QPainter(self)
        pal = self.palette()
        p.fillRect(self.rect(), pal.color(QPalette.Window))
        r = self.target_rect()
        p.setRenderHint(QPainter.SmoothPixmapTransform, True)
        p.drawImage(r, self._image)
        if self._overlay is not None:
            p.drawImage(r, self._overlay)
        if self.is_empty():
            p.setPen(QColor(150, 150, 150))
            f = p.font()
            f.setPointSizeF(max(10.0, r.width() / 22.0))
            p.setFont(f)
            p.drawText(r, Qt.AlignCenter, self.HINT)
        if self._notice:
            f = p.font()
            f.setPointSizeF(max(8.0, min(11.0, r.width() / 32.0)))
            p.setFont(f)
            room = r.adjusted(8, 0, -8, 0)
            need = p.fontMetrics().boundingRect(room.toRect(), Qt.TextWordWrap | Qt.AlignCenter, self._notice)
            foot = r.adjusted(2, r.height() - need.height() - 10, -2, -2)
            p.fillRect(foot, QColor(0, 0, 0, 170))
            p.setPen(QColor(235, 235, 235))
            p.drawText(foot.adjusted(6, 0, -6, 0), Qt.TextWordWrap | Qt.AlignCenter, self._notice)   # wraps
        frame = pal.color(QPalette.Highlight) if self.hasFocus() else pal.color(QPalette.Mid)
        p.setPen(QPen(frame, 1))
        p.setBrush(Qt.NoBrush)
        p.drawRect(r.adjusted(0, 0, -1, -1))
        p.end()

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.LeftButton:
            self._begin(event.position(), erase=False)
        elif event.button() == Qt.RightButton:
            self._begin(event.position(), erase=True)
        else:
            super().mousePressEvent(event)
            return
        event.accept()

    def mouseMoveEvent(self, event) -> None:
        if self._current is not None and event.buttons() & (Qt.LeftButton | Qt.RightButton):
            self._extend(event.position())
            event.accept()
        else:
            super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if self._current is not None and event.button() in (Qt.LeftButton, Qt.RightButton):
            self._end(event.position())
            event.accept()
        else:
            super().mouseReleaseEvent(event)

    def tabletEvent(self, event) -> None:
        t = event.type()
        erase = event.pointerType().name == "Eraser" if hasattr(event.pointerType(), "name") else False
        if t == event.Type.TabletPress:
            self._tablet_down = True
            self._begin(event.position(), erase=erase or event.button() == Qt.RightButton)
        elif t == event.Type.TabletMove:
            if self._tablet_down:
                self._extend(event.position())
        elif t == event.Type.TabletRelease:
            if self._tablet_down:
                self._tablet_down = False
                self._end(event.position())
        event.accept()   # no synthesised mouse events for the pen

    def keyPressEvent(self, event) -> None:
        if event.key() in (Qt.Key_Delete, Qt.Key_Escape, Qt.Key_Backspace):
            self.clear()
            event.accept()
        elif event.matches(QKeySequence.Undo):
            self.undo()
            event.accept()
        elif event.matches(QKeySequence.Redo) or (event.key() == Qt.Key_Y and
                                                   event.modifiers() & Qt.ControlModifier):
            self.redo()
            event.accept()
        else:
            super().keyPressEvent(event)
