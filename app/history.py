"""The window's history features in one call: the Timeline and Runs docks, the errors' gallery."""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence

from .error_gallery import attach_gallery
from .runs_view import attach_runs
from .timeline import attach_timeline

__all__ = ["attach_history", "BOTTOM_MIN_HEIGHT"]

#: The least height a Timeline or Runs dock below the drawing gets when it is shown (its plot
#: and list need it); up to a third of the window's height.
BOTTOM_MIN_HEIGHT = 280


def _give_room(window, dock) -> None:
    """A dock shown below the drawing with too little height gets a third of the window."""
    if (not dock.isVisible() or dock.isFloating()
            or window.dockWidgetArea(dock) != Qt.BottomDockWidgetArea
            or dock.height() >= BOTTOM_MIN_HEIGHT):
        return
    window.resizeDocks([dock], [max(BOTTOM_MIN_HEIGHT, window.height() // 3)], Qt.Vertical)


def attach_history(window) -> None:
    """Add the Timeline and Runs docks (View menu) and *Where Does It Fail?* (Edit menu) to
    ``window`` (a :class:`app.main_window.MainWindow`, its menus already made)."""
    attach_timeline(window)
    attach_runs(window)
    attach_gallery(window)
    menus = {a.text(): a.menu() for a in window.menuBar().actions()}
    for dock, key in ((window.timeline_dock, "Ctrl+Shift+T"), (window.runs_dock, "Ctrl+Shift+R")):
        a = dock.toggleViewAction()
        a.setShortcut(QKeySequence(key))
        menus["&View"].addAction(a)
        dock.visibilityChanged.connect(                     # (after the layout settled)
            lambda shown, d=dock: shown and QTimer.singleShot(0, lambda: _give_room(window, d)))
    window.act_where_fails = window._act("&Where Does It Fail?…", lambda: window.gallery_wiring.open(),
                                         "Ctrl+Shift+F", "The test images the model misreads, by cell")
    menus["&Edit"].addAction(window.act_where_fails)
