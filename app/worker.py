"""A thin worker: runs a generator in a QThread and sends what it yields to the GUI.

Training is a plain generator of events; :class:`GeneratorWorker` runs it in a QObject
moved, once, to a ``QThread`` the worker owns for its whole life (one thread for every
run, started with a queued signal), and talks to the GUI only by signals. Pause and stop
are ``threading.Event`` flags checked between yields; the thread is never terminated.

Why not superqt's ``GeneratorWorker`` (same shape): it runs in the global
``QThreadPool``, so the window cannot wait for its one thread with a timeout when it
closes, and it pauses by polling every 10 ms, while paused time must be left out of the
training clock.

Closing: :meth:`GeneratorWorker.close` stops the work, quits the thread and waits a bounded
time. A thread that does not end in time (a data load or a first compile that cannot be
interrupted) is kept referenced here, so that nothing destroys it while it runs (Qt aborts
the process then); :func:`running_threads` names those left, and the application ends the
process with ``os._exit`` once its settings are saved. A last resort at interpreter exit
does the same, with a line on stderr, for threads nobody closed.

Threading rules: :meth:`~GeneratorWorker.stop`, :meth:`~GeneratorWorker.pause`,
:meth:`~GeneratorWorker.resume` and :meth:`~GeneratorWorker.wait` may be called from any
thread; the signals are emitted in the worker's own (GUI) thread.
"""
from __future__ import annotations

import atexit
import os
import sys
import threading
import time
import traceback
from typing import Callable, Iterator

from PySide6.QtCore import QObject, QThread, Qt, Signal, Slot

__all__ = ["GeneratorWorker", "running_threads"]

_THREADS: dict[int, tuple[QThread, QObject]] = {}
"""Threads started and not yet seen ended, with their runner: kept alive while they run."""


def running_threads() -> list[QThread]:
    """The worker threads still running (a closed worker's thread that could not stop, or
    the thread of a worker never closed)."""
    return [t for t, _ in _THREADS.values() if t.isRunning()]


def _last_resort() -> None:
    """At interpreter exit (before PySide6 destroys its objects): quit the threads nobody
    closed; if one still runs, leave at once rather than let Qt abort the process."""
    for t in running_threads():
        t.quit()
        if not t.wait(1000):
            print("digitlab: a worker thread could not be stopped; exiting without it",
                  file=sys.stderr)
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(1)


atexit.register(_last_resort)      # after PySide6's own exit handler, so it runs before it


class _Runner(QObject):
    """Lives in the worker's thread: runs one generator per :meth:`run`."""

    event = Signal(object)
    failed = Signal(str)
    pausedChanged = Signal(bool)
    finished = Signal()

    def __init__(self, worker: "GeneratorWorker"):
        super().__init__()
        self._w = worker

    @Slot(object)
    def run(self, work) -> None:
        w = self._w
        try:
            for ev in work(w):
                w.report(ev)
                w._hold()
        except Exception as exc:               # noqa: BLE001 - reaches the user as a message
            self.failed.emit("".join(traceback.format_exception_only(type(exc), exc)).strip())
        finally:
            self.finished.emit()
            w._idle.set()

    @Slot()
    def end(self) -> None:
        """Quit the thread's event loop (queued behind any work started before)."""
        self.thread().quit()


class GeneratorWorker(QObject):
    """Runs ``work(worker)``, a generator of events, in a QThread of its own.

    Parameters
    ----------
    throttled : tuple of types
        Events of these types reach the GUI at most ``updates_per_second`` times a second
        (the others always do).
    updates_per_second : float
    clock : callable
        Time source (seconds), for the throttle and the paused time.

    Signals
    -------
    event(object)
        Something the generator yielded (or the work reported from a callback).
    failed(str)
        The generator raised; a one-line message.
    pausedChanged(bool)
    finished()
        The generator ended (always sent, after its last event).
    """

    event = Signal(object)
    failed = Signal(str)
    pausedChanged = Signal(bool)
    finished = Signal()
    _begin = Signal(object)
    _end = Signal()

    def __init__(self, throttled: tuple = (), updates_per_second: float = 10.0,
                 clock: Callable[[], float] = time.perf_counter, parent: QObject | None = None):
        super().__init__(parent)
        self.throttled = tuple(throttled)
        self.interval = 1.0 / updates_per_second
        self._time = clock
        self._stop = threading.Event()
        self._go = threading.Event()          # set: not paused
        self._go.set()
        self._idle = threading.Event()        # set: no work in progress
        self._idle.set()
        self._paused_total = 0.0
        self._last_sent = -float("inf")
        self._closing = False
        # no Qt parent: the thread is kept alive by reference (see close), never deleted
        # by a parent while it runs
        self._thread = QThread()
        self._thread.setObjectName("digitlab-worker")
        self._runner = _Runner(self)
        self._runner.moveToThread(self._thread)
        self._begin.connect(self._runner.run, Qt.QueuedConnection)
        self._end.connect(self._runner.end, Qt.QueuedConnection)
        for name in ("event", "failed", "pausedChanged", "finished"):
            getattr(self._runner, name).connect(getattr(self, name), Qt.QueuedConnection)
        self._open_thread()

    def _open_thread(self) -> None:
        _THREADS[id(self._thread)] = (self._thread, self._runner)
        self._thread.start()

    # -- control ----------------------------------------------------------------------
    def start(self, work: Callable[["GeneratorWorker"], Iterator]) -> None:
        """Run ``work(self)`` in the worker's thread (GUI thread only). Raises RuntimeError
        if a work still runs. A closed worker opens its thread again."""
        if not self._idle.wait(1.0):           # it sent finished and is returning
            raise RuntimeError("the worker is still running")
        if self._closing:                      # idle: its thread is ending
            if not self._thread.wait(1000):
                raise RuntimeError("the worker's thread is still closing")
            self._closing = False
        if not self._thread.isRunning():
            self._open_thread()
        self._stop.clear()
        self._go.set()
        self._paused_total = 0.0
        self._last_sent = -float("inf")
        self._idle.clear()
        self._begin.emit(work)

    def stop(self) -> None:
        """Ask the work to end (it checks :attr:`stop_event` between chunks); ends a pause."""
        self._stop.set()
        self._go.set()

    def pause(self) -> None:
        """Hold the work at its next yield."""
        if self.is_running():
            self._go.clear()

    def resume(self) -> None:
        self._go.set()

    def is_paused(self) -> bool:
        return not self._go.is_set()

    def is_running(self) -> bool:
        """A work is in progress (from :meth:`start` until it has sent finished)."""
        return not self._idle.is_set()

    def wait(self, timeout: float) -> bool:
        """Wait for the work to end, at most ``timeout`` seconds. True when it has ended."""
        return self._idle.wait(timeout)

    def close(self, timeout: float) -> bool:
        """Stop the work, quit the thread and wait for it at most ``timeout`` seconds.

        The quit is queued behind the work, so that a work started but not yet begun
        still runs (and sees the stop) rather than being lost. Returns True when the
        thread has ended. False: the work cannot be interrupted and still runs; the thread
        ends once it returns, is never terminated, and is kept referenced until then
        (see :func:`running_threads`). May be called again.
        """
        self.stop()
        if not self._closing and self._thread.isRunning():
            self._closing = True
            self._end.emit()
        ended = self._thread.wait(max(0, int(round(1000 * timeout))))
        if ended:
            _THREADS.pop(id(self._thread), None)
        return ended

    # -- for the work, in its thread ---------------------------------------------------
    @property
    def stop_event(self) -> threading.Event:
        """Set when a stop was asked (the engine checks it between chunks)."""
        return self._stop

    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def clock(self) -> float:
        """Seconds, paused time left out (for images-per-second figures)."""
        return self._time() - self._paused_total

    def report(self, ev) -> None:
        """Send ``ev`` to the GUI, unless it is of a throttled type and one went out lately."""
        if isinstance(ev, self.throttled):
            now = self._time()
            if now - self._last_sent < self.interval:
                return
            self._last_sent = now
        self._runner.event.emit(ev)

    def _hold(self) -> None:
        if self._go.is_set():
            return
        t0 = self._time()
        self._runner.pausedChanged.emit(True)
        self._go.wait()
        self._paused_total += self._time() - t0
        self._runner.pausedChanged.emit(False)
