"""A thin worker: runs a generator in a thread and sends what it yields to the GUI.

The shape is superqt's ``GeneratorWorker`` (a generator, pause and stop between yields,
an event signal, an error signal, finished), written here in a few lines because
superqt's runs in the global ``QThreadPool`` and pauses by polling every 10 ms, while the
window must wait for its one training thread with a timeout when it closes and must
exclude paused time from the training clock.

The thread is a plain daemon ``threading.Thread`` (no ``QThread``, no ``moveToThread``):
signals emitted from it reach slots of GUI objects queued, in order. If it cannot stop in
time (a data load or a first compile that cannot be interrupted), the window may still
quit: a daemon thread never holds the process, and nothing ever terminates it.

Threading rules: :meth:`GeneratorWorker.stop`, :meth:`pause` and :meth:`resume` only set
``threading.Event`` flags and may be called from any thread. Connect the signals to
methods of QObjects (queued into their thread), not to plain functions.
"""
from __future__ import annotations

import threading
import time
import traceback
from typing import Callable, Iterator

from PySide6.QtCore import QObject, Signal

__all__ = ["GeneratorWorker"]


class GeneratorWorker(QObject):
    """Runs ``work(worker)``, a generator of events, in a daemon thread.

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

    def __init__(self, throttled: tuple = (), updates_per_second: float = 10.0,
                 clock: Callable[[], float] = time.perf_counter, parent: QObject | None = None):
        super().__init__(parent)
        self.throttled = tuple(throttled)
        self.interval = 1.0 / updates_per_second
        self._time = clock
        self._stop = threading.Event()
        self._go = threading.Event()          # set: not paused
        self._go.set()
        self._thread: threading.Thread | None = None
        self._paused_total = 0.0
        self._last_sent = -float("inf")

    # -- control, from any thread --------------------------------------------------------
    def start(self, work: Callable[["GeneratorWorker"], Iterator]) -> None:
        """Run ``work(self)`` in a new thread. Raises RuntimeError if one still runs."""
        if self._thread is not None and self._thread.is_alive():
            self._thread.join(1.0)             # it sent finished and is returning
            if self._thread.is_alive():
                raise RuntimeError("the worker is still running")
        self._stop.clear()
        self._go.set()
        self._paused_total = 0.0
        self._last_sent = -float("inf")
        self._thread = threading.Thread(target=self._run, args=(work,), name="digitlab-worker",
                                        daemon=True)
        self._thread.start()

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
        return self._thread is not None and self._thread.is_alive()

    def wait(self, timeout: float | None) -> bool:
        """Wait for the thread to end, at most ``timeout`` seconds. True when it has ended."""
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.is_running()

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
        self.event.emit(ev)

    # -- the thread -------------------------------------------------------------------------
    def _hold(self) -> None:
        if self._go.is_set():
            return
        t0 = self._time()
        self.pausedChanged.emit(True)
        self._go.wait()
        self._paused_total += self._time() - t0
        self.pausedChanged.emit(False)

    def _run(self, work) -> None:
        try:
            for ev in work(self):
                self.report(ev)
                self._hold()
        except Exception as exc:               # noqa: BLE001 - reaches the user as a message
            self.failed.emit("".join(traceback.format_exception_only(type(exc), exc)).strip())
        finally:
            self.finished.emit()
