"""Every way work leaves the GUI thread, after superqt's design (``superqt.utils._qthreading``).

Two kinds of job, one set of signal names (``started``, ``yielded``, ``returned``,
``errored``, ``finished``), one error path and one registry:

- :class:`GeneratorJob`: a generator (training, a download, a fine-tuning) on a QThread of
  its own, kept for the job's whole life. Pause and stop are ``threading.Event`` flags
  checked between yields; paused time is left out of its :meth:`~GeneratorJob.clock`;
  :meth:`~GeneratorJob.close` waits a bounded time and never terminates the thread.
- :class:`FunctionPool`: functions on a thread pool, one job per *channel*; a request made
  while the channel is busy replaces the request waiting there, so the newest drawing is
  computed next and no queue builds up (the Why? tab, the runs folder, the errors'
  gallery, the warm-up). :meth:`~FunctionPool.submit` returns a :class:`Ticket` that can
  be waited on from any thread.

Errors: a job that raises sends ``errored`` with one line (:func:`one_line`: the
exception's type and message) and prints its traceback on stderr; the panel that owns the
job shows the line to the user.

Registry: every job is registered when made; :func:`close_jobs` closes the jobs of one
window (or all) within a time limit, :func:`running_threads` names the threads still
running (a job that could not be interrupted: a data load, a first compile). They are kept
referenced until they end, since Qt aborts a process that destroys a running thread; the
application then ends the process with ``os._exit`` once its settings are written.

Why not superqt itself: its generator worker runs on the global ``QThreadPool``, so a
window cannot wait for its one thread with a timeout when it closes, and it pauses by
polling every 10 ms, while paused time must be left out of the training clock.

Threading rules: ``stop``, ``pause``, ``resume`` and the waits may be called from any
thread; the signals are emitted in the GUI thread.
"""
from __future__ import annotations

import atexit
import itertools
import os
import sys
import threading
import time
import traceback
import weakref
from typing import Callable, Iterator

from PySide6.QtCore import QObject, QRunnable, QThread, QThreadPool, Qt, Signal, Slot

__all__ = ["GeneratorJob", "FunctionPool", "Ticket", "one_line", "close_jobs", "running_threads"]

_JOBS: "weakref.WeakSet[QObject]" = weakref.WeakSet()
"""Every job made (generator jobs and function pools): the one registry."""
_THREADS: dict[int, tuple[QThread, QObject]] = {}
"""Generator threads started and not yet seen ended, with their runner: kept alive while they run."""


def one_line(exc: BaseException) -> str:
    """The one line a user is shown for a job's error (``"ValueError: bad size"``); the
    traceback goes to stderr."""
    traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()


def running_threads() -> list[QThread]:
    """The generator jobs' threads still running (a closed job's thread that could not
    stop, or the thread of a job never closed)."""
    return [t for t, _ in _THREADS.values() if t.isRunning()]


def _inside(obj: QObject, root: QObject | None) -> bool:
    while obj is not None:
        if obj is root:
            return True
        obj = obj.parent()
    return root is None


def close_jobs(root: QObject | None = None, timeout: float = 5.0) -> bool:
    """Close every registered job under ``root`` in the Qt object tree (None: every job):
    stop it and wait for it, at most ``timeout`` seconds in all. A job closed before that
    still runs (it could not be interrupted) is not waited for again. True when all have
    ended."""
    end = time.monotonic() + max(0.0, timeout)
    ok = True
    for job in list(_JOBS):
        try:
            if not _inside(job, root):
                continue
            if job.is_closing():
                ok = False
            else:
                ok = job.close(max(0.0, end - time.monotonic())) and ok
        except RuntimeError:          # its C++ object is gone: nothing runs
            continue
    return ok


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


# ==================================================================================== generators
class _Runner(QObject):
    """Lives in the job's thread: runs one generator per :meth:`run`."""

    started = Signal()
    yielded = Signal(object)
    returned = Signal(object)
    errored = Signal(str)
    pausedChanged = Signal(bool)
    finished = Signal()

    def __init__(self, job: "GeneratorJob", hold: Callable[[], None], idle: threading.Event):
        super().__init__()
        self._job, self._hold, self._idle = job, hold, idle

    @Slot(object)
    def run(self, work) -> None:
        job = self._job
        self.started.emit()
        try:
            gen = work(job)
            while True:
                try:
                    ev = next(gen)
                except StopIteration as done:
                    self.returned.emit(done.value)
                    break
                job.report(ev)
                self._hold()
        except Exception as exc:               # noqa: BLE001 - reaches the user as one line
            self.errored.emit(one_line(exc))
        finally:
            self.finished.emit()
            self._idle.set()

    @Slot()
    def end(self) -> None:
        """Quit the thread's event loop (queued behind any work started before)."""
        self.thread().quit()


class GeneratorJob(QObject):
    """Runs ``work(job)``, a generator of events, in a QThread of its own.

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
    started()
    yielded(object)
        Something the generator yielded (or the work reported from a callback).
    returned(object)
        The generator's return value (None mostly), when it ended without an error.
    errored(str)
        The generator raised: one line (:func:`one_line`).
    pausedChanged(bool)
    finished()
        The generator ended (always sent, after its last event).
    """

    started = Signal()
    yielded = Signal(object)
    returned = Signal(object)
    errored = Signal(str)
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
        self._thread.setObjectName("digitlab-job")
        self._runner = _Runner(self, self._hold, self._idle)
        self._runner.moveToThread(self._thread)
        self._begin.connect(self._runner.run, Qt.QueuedConnection)
        self._end.connect(self._runner.end, Qt.QueuedConnection)
        for name in ("started", "yielded", "returned", "errored", "pausedChanged"):
            getattr(self._runner, name).connect(getattr(self, name), Qt.QueuedConnection)
        self._runner.finished.connect(self._on_runner_finished, Qt.QueuedConnection)
        _JOBS.add(self)
        self._open_thread()

    def _open_thread(self) -> None:
        _THREADS[id(self._thread)] = (self._thread, self._runner)
        self._thread.start()

    @Slot()
    def _on_runner_finished(self) -> None:
        """Pass the runner's finished on once it is idle (it sets idle just after sending
        finished), so that a slot of :attr:`finished` sees :meth:`is_running` False."""
        self._idle.wait(1.0)
        self.finished.emit()

    # -- control ----------------------------------------------------------------------
    def start(self, work: Callable[["GeneratorJob"], Iterator]) -> None:
        """Run ``work(self)`` in the job's thread (GUI thread only). Raises RuntimeError
        if a work still runs. A closed job opens its thread again."""
        if not self._idle.wait(1.0):           # it sent finished and is returning
            raise RuntimeError("the job is still running")
        if self._closing:                      # idle: its thread is ending
            if not self._thread.wait(1000):
                raise RuntimeError("the job's thread is still closing")
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

    def is_closing(self) -> bool:
        """It was closed and its thread still runs (a work that cannot be interrupted)."""
        return self._closing and self._thread.isRunning()

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
        self._runner.yielded.emit(ev)

    def _hold(self) -> None:
        if self._go.is_set():
            return
        t0 = self._time()
        self._runner.pausedChanged.emit(True)
        self._go.wait()
        self._paused_total += self._time() - t0
        self._runner.pausedChanged.emit(False)


# ===================================================================================== functions
class Ticket:
    """One request of a :class:`FunctionPool`: wait for it from any thread.

    Attributes
    ----------
    number : int
        The request's number (increasing).
    result : object
        What the function returned (once done, without an error).
    error : BaseException or None
        What it raised.
    dropped : bool
        Replaced by a newer request before it ran (or dropped at closing): it never runs.
    done : threading.Event
        Set once it ran or was dropped.
    """

    def __init__(self, number: int):
        self.number = number
        self.result = None
        self.error: BaseException | None = None
        self.dropped = False
        self.done = threading.Event()

    def is_done(self) -> bool:
        """It ran (or was dropped)."""
        return self.done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait at most ``timeout`` seconds; True when done."""
        return self.done.wait(timeout)


class _Relay(QObject):
    """Carries a job's outcome from the pool's thread to the GUI thread (queued)."""

    returned = Signal(str, object, object)
    errored = Signal(str, object, str)


class _Call(QRunnable):
    def __init__(self, relay: _Relay, channel: str, ticket: Ticket, fn: Callable, args: tuple):
        super().__init__()
        self.setAutoDelete(True)
        self._relay, self._channel, self._ticket, self._fn, self._args = relay, channel, ticket, fn, args

    def run(self) -> None:
        t = self._ticket
        try:
            t.result = self._fn(*self._args)
        except Exception as e:   # noqa: BLE001 - reported to the GUI, never lost
            t.error = e
            message = one_line(e)
            t.done.set()
            self._relay.errored.emit(self._channel, t, message)
            return
        t.done.set()
        self._relay.returned.emit(self._channel, t, t.result)


class FunctionPool(QObject):
    """Run ``fn(*args)`` on a thread pool, one job per channel, the newest waiting request next.

    Parameters
    ----------
    parent : QObject, optional
    threads : int
        Threads of the pool's own.
    priorities : dict of str to int, optional
        Priority of each channel's jobs when they wait for a thread (higher first; 0 for
        channels not named): quick views ahead of slow ones.

    Signals
    -------
    started(str)
        A channel's job began (sent when the request leaves the GUI thread).
    returned(str, object)
        A channel's job returned this result.
    errored(str, str)
        A channel's job raised; one line (:func:`one_line`).
    finished(str)
        A channel's job ended (after ``returned`` or ``errored``).
    """

    started = Signal(str)
    returned = Signal(str, object)
    errored = Signal(str, str)
    finished = Signal(str)

    def __init__(self, parent=None, threads: int = 2, priorities: dict | None = None):
        super().__init__(parent)
        self.priorities = dict(priorities or {})
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max(1, int(threads)))
        self._relay = _Relay()          # no parent: the jobs keep it alive until they end
        self._relay.returned.connect(self._returned)
        self._relay.errored.connect(self._errored)
        self._numbers = itertools.count(1)
        self._running: dict[str, Ticket] = {}
        self._waiting: dict[str, tuple] = {}
        _JOBS.add(self)

    def submit(self, channel: str, fn: Callable, *args) -> Ticket:
        """Ask for ``fn(*args)`` on ``channel``; returns its :class:`Ticket`.

        If the channel is busy the request waits, replacing (dropping) any request already
        waiting there.
        """
        ticket = Ticket(next(self._numbers))
        if channel in self._running:
            old = self._waiting.pop(channel, None)
            if old is not None:
                self._drop(old[0])
            self._waiting[channel] = (ticket, fn, args)
        else:
            self._start(channel, ticket, fn, args)
        return ticket

    def busy(self, channel: str | None = None) -> bool:
        """Whether ``channel`` (any channel for None) has a job running or waiting."""
        if channel is None:
            return bool(self._running or self._waiting)
        return channel in self._running or channel in self._waiting

    def wait(self, msecs: int = -1) -> bool:
        """Block until the running jobs end (waiting requests are dropped); for shutdown."""
        for ticket, _, _ in self._waiting.values():
            self._drop(ticket)
        self._waiting.clear()
        return self._pool.waitForDone(msecs)

    def is_closing(self) -> bool:
        return False

    def close(self, timeout: float) -> bool:
        """Drop the waiting requests and wait for the running ones at most ``timeout`` seconds."""
        return self.wait(max(0, int(round(1000 * timeout))))

    @staticmethod
    def _drop(ticket: Ticket) -> None:
        ticket.dropped = True
        ticket.done.set()

    def _start(self, channel: str, ticket: Ticket, fn: Callable, args: tuple) -> None:
        self._running[channel] = ticket
        self.started.emit(channel)
        self._pool.start(_Call(self._relay, channel, ticket, fn, args), self.priorities.get(channel, 0))

    def _next(self, channel: str) -> None:
        self._running.pop(channel, None)
        nxt = self._waiting.pop(channel, None)
        if nxt is not None:
            self._start(channel, *nxt)

    def _returned(self, channel: str, _ticket: Ticket, out) -> None:
        self._next(channel)
        self.returned.emit(channel, out)
        self.finished.emit(channel)

    def _errored(self, channel: str, _ticket: Ticket, message: str) -> None:
        self._next(channel)
        self.errored.emit(channel, message)
        self.finished.emit(channel)
