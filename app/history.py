"""The window's history features in one call: the Timeline and Runs docks, the errors' gallery."""
from __future__ import annotations

from PySide6.QtGui import QKeySequence

from .error_gallery import attach_gallery
from .runs_view import attach_runs
from .timeline import attach_timeline

__all__ = ["attach_history"]


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
    window.act_where_fails = window._act("&Where Does It Fail?…", lambda: window.gallery_wiring.open(),
                                         "Ctrl+Shift+F", "The test images the model misreads, by cell")
    menus["&Edit"].addAction(window.act_where_fails)
