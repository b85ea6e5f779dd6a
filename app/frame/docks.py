"""Adding a dock to the main window: the one way every panel does it."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget

__all__ = ["add_dock"]


def add_dock(window, title: str, object_name: str, widget, area=Qt.RightDockWidgetArea,
             tab_with: QDockWidget | None = None, hidden: bool = False) -> QDockWidget:
    """A dock titled ``title`` holding ``widget``, added to ``window`` (a QMainWindow).

    Parameters
    ----------
    object_name : str
        Names the dock in the saved window state (must be unique and stable).
    area : Qt.DockWidgetArea
    tab_with : QDockWidget, optional
        A dock already in ``area`` to tab this one with (it goes behind).
    hidden : bool
        Start hidden (the View menu shows it).
    """
    dock = QDockWidget(title, window)
    dock.setObjectName(object_name)
    dock.setWidget(widget)
    window.addDockWidget(area, dock)
    if tab_with is not None:
        window.tabifyDockWidget(tab_with, dock)
    if hidden:
        dock.hide()
    return dock
