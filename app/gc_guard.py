"""Python's cyclic garbage collector runs on the GUI thread only.

CPython collects reference cycles in whichever thread crosses its allocation threshold,
and the threads that allocate the most here are the training thread and the warm-up
thread (a numba compile). A collection there destroys the Qt objects caught in a cycle
(a closed window's plots, a menu, a timer) from the wrong thread, and Qt then either
fires a timer at the freed object (a segmentation fault) or PySide queues the deletion
for the GUI thread, where it can run inside another object's destructor and wait for
a lock that destructor holds (a hang). Both happened in the test suite, on a fresh
clone, where the first compile makes the warm-up thread live long.

:func:`qt_application` turns automatic collection off and collects on a GUI-thread timer
instead (the pattern of pyqtgraph's ``GarbageCollector``); the test suite does the same
between tests with :func:`collect_due`. A full collection walks every object Python
tracks (the window and its libraries make a great many), so once the window is built and
warm, :func:`freeze_startup` sets what exists then aside
(``gc.freeze``) and later full collections walk only what came after.
"""
from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication

__all__ = ["GuiCollector", "collect_due", "freeze_startup", "qt_application"]

#: How often the GUI thread looks at the allocation counts, in milliseconds.
INTERVAL_MS = 500


def collect_due(thresholds: tuple[int, int, int] | None = None) -> int:
    """Collect, on the calling thread, each generation whose count passed its threshold.

    The same rule as CPython's automatic collection (``gc.get_threshold()``), applied
    when called rather than on an allocation. Returns the number of unreachable objects
    found.
    """
    t0, t1, t2 = thresholds or gc.get_threshold()
    c0, c1, c2 = gc.get_count()
    if c2 > t2:
        return gc.collect(2)
    if c1 > t1:
        return gc.collect(1)
    if c0 > t0:
        return gc.collect(0)
    return 0


class GuiCollector(QObject):
    """Disable automatic collection and collect every :data:`INTERVAL_MS` on this thread.

    Create it on the GUI thread; :meth:`stop` gives automatic collection back.
    """

    def __init__(self, interval_ms: int = INTERVAL_MS, parent: QObject | None = None):
        super().__init__(parent)
        self.thresholds = gc.get_threshold()
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.check)
        gc.disable()
        self.timer.start()

    def check(self) -> int:
        """Collect what is due now (see :func:`collect_due`)."""
        return collect_due(self.thresholds)

    def stop(self) -> None:
        """Stop the timer and turn automatic collection back on."""
        self.timer.stop()
        gc.enable()


def freeze_startup() -> None:
    """Collect once, then keep every object alive now out of later collections.

    Call on the GUI thread once the window is built and warmed up (the modules, the
    window's widgets, the compiled loops): they live as long as the process, and a full
    collection then takes well under a millisecond instead of a tenth of a second.
    """
    gc.collect()
    gc.freeze()


def qt_application(argv: list[str] | None = None) -> QApplication:
    """The running ``QApplication`` (made with ``argv`` if there is none), with a
    :class:`GuiCollector` installed once on it."""
    global _collector
    app = QApplication.instance() or QApplication(list(argv or ["digitlab"]))
    if _collector is None:
        _collector = GuiCollector(parent=app)
    return app


_collector: GuiCollector | None = None
