"""Ctrl+C while a command is still starting: one line and exit status 130, never a traceback.

The first fraction of a second of ``digitlab ...`` and ``python -m engine ...`` imports
NumPy, pandas, numba and, for the window, PySide6. A ``KeyboardInterrupt`` raised inside
those imports prints a long traceback, and one inside PySide6's start-up aborts Python
("Fatal Python error: libshiboken/signature"). :func:`quiet_start` replaces Python's SIGINT
handler for the duration of such imports by one that prints ``digitlab: interrupted`` and
ends the process at once with status 130; the usual handler (KeyboardInterrupt, caught by the
command line) comes back after. Imports only the standard library.
"""
from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading

__all__ = ["quiet_start", "INTERRUPTED"]

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
