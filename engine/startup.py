"""Ctrl+C while a command is still starting: one line and exit status 130, never a traceback.

The first fraction of a second of ``digitlab ...`` and ``python -m engine ...`` imports
NumPy, pandas, numba and, for the window, PySide6. A ``KeyboardInterrupt`` raised inside
those imports prints a long traceback, and one inside PySide6's start-up aborts Python
("Fatal Python error: libshiboken/signature"). :func:`quiet_start` replaces Python's SIGINT
handler for the duration of such imports by one that prints ``digitlab: interrupted`` and
ends the process at once with status 130; the usual handler (KeyboardInterrupt, caught by the
command line) comes back after. :func:`hold_interrupts` does the same across several modules'
imports (``import app`` and the launcher), until :func:`release_interrupts` when a command or
the window starts. Imports only the standard library.
"""
from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading

__all__ = ["quiet_start", "hold_interrupts", "release_interrupts", "INTERRUPTED"]

INTERRUPTED = "digitlab: interrupted"


def _end(signum, frame):  # noqa: ARG001 - a signal handler's signature
    try:
        sys.stderr.write("\n" + INTERRUPTED + "\n")
        sys.stderr.flush()
    finally:
        os._exit(130)


@contextlib.contextmanager
def quiet_start():
    """Within the block, Ctrl+C (SIGINT) ends the process quietly with status 130.

    Only on the main thread, and only when Python's own handler is in place (an embedding
    program's, or pytest's, is left alone)."""
    if threading.current_thread() is not threading.main_thread() \
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield
        return
    signal.signal(signal.SIGINT, _end)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


_held = False


def hold_interrupts() -> None:
    """From now until :func:`release_interrupts`, Ctrl+C ends the process quietly (status 130).

    For the start of a program, across several modules' imports; only on the main thread and
    only over Python's own handler (an embedding program's, or pytest's, is left alone)."""
    global _held
    if threading.current_thread() is threading.main_thread() \
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _end)
        _held = True


def release_interrupts() -> None:
    """Python's own Ctrl+C handler again (``KeyboardInterrupt``), if :func:`hold_interrupts` held it."""
    global _held
    if _held and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)
        _held = False
