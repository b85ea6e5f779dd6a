"""Fitting the window to small screens (1366x768 at scale 2 is 683x384 logical pixels).

Every dock's contents sit in a scroll area that scrolls vertically only; before the area
lays its contents out it tells them the width they have (their ``fit_width(width)``
method), so that a panel can rearrange itself (a column instead of a row) rather than be
cut off on the right; contents without that method have their rows that do not fit
folded into columns (:func:`fold_rows`). Below :data:`COMPACT_WIDTH` logical pixels the default
layout gives the drawing area only what it needs and the docks the rest.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtCore import QSize
from PySide6.QtWidgets import (QBoxLayout, QHBoxLayout, QLabel, QPushButton, QScrollArea, QSplitter,
                               QWidget)

__all__ = ["COMPACT_WIDTH", "fit_docks", "fold_rows", "is_compact", "vertical_scroll", "WidthFitter"]

COMPACT_WIDTH = 1100
"""Below this window width (logical pixels) the layout is compact."""


def is_compact(width: int) -> bool:
    """Whether a window ``width`` logical pixels wide gets the compact layout."""
    return width < COMPACT_WIDTH


def _row_width(layout) -> int:
    """The smallest width of a row layout laid out left to right."""
    m = layout.contentsMargins()
    widths = [layout.itemAt(i).minimumSize().width() for i in range(layout.count())
              if not layout.itemAt(i).isEmpty()]
    return sum(widths) + max(layout.spacing(), 0) * max(len(widths) - 1, 0) + m.left() + m.right()


def fold_rows(widget, width: int, room: int = 40) -> None:
    """Every row (QHBoxLayout) and side-by-side splitter in ``widget`` wider than
    ``width - room`` pixels laid out top to bottom instead, and back once it fits."""
    for lay in widget.findChildren(QHBoxLayout):
        fits = _row_width(lay) <= width - room
        lay.setDirection(QBoxLayout.LeftToRight if fits else QBoxLayout.TopToBottom)
    for split in widget.findChildren(QSplitter):
        if getattr(split, "_was_horizontal", split.orientation() == Qt.Horizontal):
            split._was_horizontal = True
            side_by_side = sum(split.widget(i).minimumSizeHint().width() for i in range(split.count()))
            split.setOrientation(Qt.Horizontal if side_by_side <= width - room else Qt.Vertical)


def relax_buttons(widget) -> None:
    """Let every push button in ``widget`` shrink to its text (a style's minimum button
    width makes a grid of digit buttons wider than a narrow dock) and long labels wrap."""
    for b in widget.findChildren(QPushButton):
        b.setMinimumWidth(min(b.sizeHint().width(), b.fontMetrics().horizontalAdvance(b.text()) + 24))
    for label in widget.findChildren(QLabel):
        if len(label.text()) > 40:
            label.setWordWrap(True)


class WidthFitter(QObject):
    """An event filter on a scroll area: on every resize, before the area lays out its
    widget, call ``widget.fit_width(width)`` with the width the widget will have."""

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Resize and isinstance(obj, QScrollArea):
            inner = obj.widget()
            if inner is not None:
                width = event.size().width() - 2 * obj.frameWidth()
                sb = obj.verticalScrollBar()
                if sb.isVisible():
                    width -= sb.sizeHint().width()
                fit = getattr(inner, "fit_width", None)
                fit(max(width, 0)) if fit is not None else fold_rows(inner, width)
        return False


class _Holder(QWidget):
    """Holds one widget at its own size and asks for its minimum size only (a scroll area
    asks a widget whose layout wraps text for its *preferred* height at its width, and
    scrolls where there was room enough)."""

    def __init__(self, child):
        super().__init__()
        self.child = child
        child.setParent(self)
        if hasattr(child, "fit_width"):
            self.fit_width = child.fit_width

    def minimumSizeHint(self) -> QSize:
        return self.child.minimumSizeHint().expandedTo(self.child.minimumSize())

    sizeHint = minimumSizeHint

    def resizeEvent(self, event) -> None:
        self.child.setGeometry(self.rect())

    def event(self, event) -> bool:
        if event.type() == QEvent.LayoutRequest:       # the child's minimum changed
            self.updateGeometry()
        return super().event(event)


def vertical_scroll(widget, fitter: WidthFitter | None = None) -> QScrollArea:
    """``widget`` in a frameless scroll area that never scrolls sideways."""
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
    area.setWidget(_Holder(widget))
    if fitter is not None:
        area.installEventFilter(fitter)
    return area


def fit_docks(window) -> None:
    """Put the contents of the window's docks that are not yet in a scroll area into one
    (vertical scrolling only) and make every such area tell its contents their width."""
    fitter = WidthFitter(window)
    window._width_fitter = fitter
    window.train_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
    window.train_scroll.installEventFilter(fitter)
    for dock in (window.net_dock, window.explain_dock, getattr(window, "teach_dock", None),
                 getattr(window, "timeline_dock", None), getattr(window, "runs_dock", None)):
        if dock is None or dock.widget() is None:
            continue
        area = dock.widget()
        if isinstance(area, QScrollArea):         # (the dock made its own: it scrolls down only)
            area.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
            area.installEventFilter(fitter)
        else:
            area = vertical_scroll(area, fitter)
            dock.setWidget(area)
        if area.widget() is not None and not hasattr(area.widget(), "fit_width"):
            relax_buttons(area.widget())          # (contents that do not lay themselves out)
