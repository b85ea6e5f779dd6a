"""Digitlab's desktop application (PySide6 + pyqtgraph).

The stable surface for scripts and checks: :class:`MainWindow`, :func:`run` (start the
application with the window), :class:`DrawingCanvas` (``image()``, ``clear()``, signal
``imageChanged``) and :func:`qt_application` (the one way to make the QApplication). They are
imported on first use, so that ``import app`` stays light.
"""
from __future__ import annotations

import sys

__all__ = ["MainWindow", "run", "DrawingCanvas", "qt_application", "PYSIDE_REFCOUNT_GUARD"]

_SURFACE = {"MainWindow": "app.main_window", "run": "app.main_window", "DrawingCanvas": "app.reading.canvas",
            "qt_application": "app.gc_guard"}


def __getattr__(name: str):
    if name in _SURFACE:
        import importlib
        return getattr(importlib.import_module(_SURFACE[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _guard_singleton_refcounts() -> bool:
    """Work around a reference-counting fault of some PySide6 builds on Python < 3.12.

    PySide6 6.12.0 on Python 3.11 drops one reference to ``None`` at every call of a
    C++ method that returns nothing (``label.setText(...)``, ``widget.update()``, ...) and
    one to ``True`` at every ``Signal.emit``. After a few thousand such calls the
    count reaches zero and Python aborts ("Fatal Python error: none_dealloc"), in the
    middle of a drawing session or at exit. From Python 3.12 these objects are immortal
    and nothing happens; PySide6 6.11 does not have the fault.

    The fault is detected by behaviour (not by version): if present, the reference
    counts of ``None``, ``True`` and ``False`` are raised by 2**40, which no session can
    use up. Returns whether the guard was applied.
    """
    if sys.version_info >= (3, 12):
        return False
    try:
        from PySide6.QtCore import QObject, Signal
    except ImportError:
        return False

    class _Probe(QObject):
        ping = Signal()

    probe = _Probe()
    n0, t0 = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(20):
        probe.setObjectName("probe")
        probe.ping.emit()
    lost = sys.getrefcount(None) < n0 - 10 or sys.getrefcount(True) < t0 - 10
    del probe
    if lost:
        import ctypes
        for obj in (None, True, False):
            # ob_refcnt is the first field of every CPython object (a Py_ssize_t).
            ctypes.c_ssize_t.from_address(id(obj)).value += 1 << 40
    return lost


from engine.startup import hold_interrupts  # noqa: E402 - after the guard's definition

# Ctrl+C from here until a command or the window starts (PySide6 loading, the launcher's
# imports): one line, exit 130, never an abort. The launcher, the command line and run() release it.
hold_interrupts()
PYSIDE_REFCOUNT_GUARD = _guard_singleton_refcounts()
"""Whether the guard against PySide6's lost references to None/True was applied."""
