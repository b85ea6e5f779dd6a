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
import threading

__all__ = ["one_thread"]

_LOCK = threading.Lock()
_HOLDERS = 0          # contexts open now, in every thread
_LIMITER = None       # threadpoolctl's limiter while one is open (None: nothing to restore)
_CONTROLLER = None


def _controller():
    """threadpoolctl's controller of the loaded libraries (made once)."""
    global _CONTROLLER
    if _CONTROLLER is None:
        from threadpoolctl import ThreadpoolController
        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER


def _free_for_any_thread(controller) -> None:
    """threadpoolctl lets only the first thread that set OpenBLAS's limit set it again until
    it is released (other threads' calls do nothing); the count below is the one owner here."""
    for lib in controller.lib_controllers:
        clear = getattr(type(lib), "clear_controlling_thread", None)
        if clear is not None:
            clear(force=True)


def _limit():
    """Limit BLAS to one thread; the limiter that restores it, or None (no threadpoolctl, no
    BLAS it can see)."""
    try:
        controller = _controller()
        _free_for_any_thread(controller)
        limiter = controller.limit(limits=1, user_api="blas")
        _free_for_any_thread(controller)
        return limiter
    except Exception:  # noqa: BLE001 - threadpoolctl missing or unable to find BLAS
        return None


def _restore(limiter) -> None:
    try:
        _free_for_any_thread(_CONTROLLER)
        limiter.restore_original_limits()
        _free_for_any_thread(_CONTROLLER)
    except Exception:  # noqa: BLE001 - as _limit: the limit is a speed-up, never a failure
        pass


@contextlib.contextmanager
def one_thread():
    """A context in which BLAS runs on one thread (a no-op without threadpoolctl).

    The limit is the process's (OpenBLAS has one setting): the contexts open in every thread
    are counted, the first sets it and the last puts back the number of threads found, so two
    threads' contexts that overlap never leave it set or put it back under the other.
    """
    global _HOLDERS, _LIMITER
    with _LOCK:
        if _HOLDERS == 0:
            _LIMITER = _limit()
        _HOLDERS += 1
    try:
        yield
    finally:
        with _LOCK:
            _HOLDERS -= 1
            if _HOLDERS == 0 and _LIMITER is not None:
                _restore(_LIMITER)
                _LIMITER = None
