"""Loaded by each worker process of a sweep's local cluster (Dask's ``preload``), before it
takes a run: the worker ignores Ctrl+C.

A Ctrl+C typed in the terminal reaches every process of its group, the local workers too;
each printed a 20-line traceback while the sweep itself stopped cleanly. The sweep closes its
cluster on Ctrl+C, and the workers with it (the nanny stops them), so they need not see it."""
from __future__ import annotations

import signal
import threading

__all__ = ["dask_setup"]


def dask_setup(worker=None) -> None:  # noqa: ARG001 - Dask's preload hook
    """Ignore SIGINT in this process (only from its main thread, where Python allows it)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
