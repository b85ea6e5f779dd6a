"""BLAS on one thread while the engine's own compiled loops use the cores.

NumPy's OpenBLAS splits a matrix product of more than about 260,000 multiply-adds over every
core, and its helper thread then spins, waiting for more work, for about a tenth of a second
after each such product. A test evaluation (500 images at a time) or the window's reading of a
drawing (17 looks) is enough to start it: while a run trained, the spinning thread took half a
core from the training and the window (measured: backprop trained 10% faster headless with it
gone). The engine's products are small; on one thread they lose nothing.
"""
from __future__ import annotations

import contextlib

__all__ = ["one_thread"]

_CONTROLLER = None


def one_thread():
    """A context in which BLAS runs on one thread (a no-op without threadpoolctl).

    The limit is the process's, not the calling thread's (OpenBLAS has one setting); leaving
    the context puts back the number of threads it found.
    """
    global _CONTROLLER
    try:
        if _CONTROLLER is None:
            from threadpoolctl import ThreadpoolController
            _CONTROLLER = ThreadpoolController()
        return _CONTROLLER.limit(limits=1, user_api="blas")
    except Exception:  # noqa: BLE001 - threadpoolctl missing or unable to find BLAS
        return contextlib.nullcontext()
