"""Fitting the window to small screens (1366x768 at scale 2 is 683x384 logical pixels).

Every dock's contents sit in a scroll area that scrolls vertically only; before the area
lays its contents out it tells them the width they have (their ``fit_width(width)``
method, if any), so that a panel can rearrange itself (a column instead of a row) rather
than be cut off on the right. Below :data:`COMPACT_WIDTH` logical pixels the default
layout gives the drawing area only what it needs and the docks the rest.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QScrollArea

__all__ = ["COMPACT_WIDTH", "fit_docks", "is_compact", "vertical_scroll", "WidthFitter"]

COMPACT_WIDTH = 1100
"""Below this window width (logical pixels) the layout is compact."""


def is_compact(width: int) -> bool:
    """Whether a window ``width`` logical pixels wide gets the compact layout."""
    return width < COMPACT_WIDTH


class WidthFitter(QObject):
    """An event filter on a scroll area: on every resize, before the area lays out its
    widget, call ``widget.fit_width(width)`` with the width the widget will have."""

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Resize and isinstance(obj, QScrollArea):
            fit = getattr(obj.widget(), "fit_width", None)
            if fit is not None:
                width = event.size().width() - 2 * obj.frameWidth()
                sb = obj.verticalScrollBar()
                if sb.isVisible():
                    width -= sb.sizeHint().width()
                fit(max(width, 0))
        return False


def vertical_scroll(widget, fitter: WidthFitter | None = None) -> QScrollArea:
    """``widget`` in a frameless scroll area that never scrolls sideways."""
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
    area.setWidget(widget)
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
    for dock in (window.net_dock, window.explain_dock, getattr(window, "teach_dock", None)):
        inner = None if dock is None else dock.widget()
        if inner is not None and not isinstance(inner, QScrollArea):
            dock.setWidget(vertical_scroll(inner, fitter))
