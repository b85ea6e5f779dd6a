"""Run the explanation computations off the GUI thread, newest request first.

Each kind of computation has a channel. A channel runs one job at a time; a request
made while one runs replaces any request still waiting, so when the drawing changes at
every pointer move only the newest drawing is computed next (no queue builds up). The
results come back, in request order, through :attr:`LatestRunner.done` on the GUI thread.
"""
from __future__ import annotations

import itertools
import traceback
from typing import Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

__all__ = ["LatestRunner"]


class _Relay(QObject):
    """Carries a job's outcome from the worker thread to the GUI thread (queued)."""

    finished = Signal(str, int, object)
    failed = Signal(str, int, str)


class _Job(QRunnable):
    def __init__(self, relay: _Relay, channel: str, gen: int, fn: Callable, args: tuple):
        super().__init__()
        self.setAutoDelete(True)
        self._relay, self._channel, self._gen, self._fn, self._args = relay, channel, gen, fn, args

    def run(self) -> None:
        try:
            out = self._fn(*self._args)
        except Exception as e:   # noqa: BLE001 - reported to the GUI, never lost
            traceback.print_exc()
            self._relay.failed.emit(self._channel, self._gen, f"{type(e).__name__}: {e}")
            return
        self._relay.finished.emit(self._channel, self._gen, out)


class LatestRunner(QObject):
    """Run ``fn(*args)`` on a thread pool, one job per channel, the newest waiting request next.

    Parameters
    ----------
    parent : QObject, optional
    threads : int
        Threads of the runner's own pool.
    priorities : dict of str to int, optional
        Priority of each channel's jobs when they wait for a thread (higher first; 0 for
        channels not named): quick views ahead of slow ones.

    Signals
    -------
    done(str, object)
        A channel's job returned this result.
    failed(str, str)
        A channel's job raised; the message names the error.
    """

    done = Signal(str, object)
    failed = Signal(str, str)

    def __init__(self, parent=None, threads: int = 2, priorities: dict | None = None):
        super().__init__(parent)
        self.priorities = dict(priorities or {})
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max(1, int(threads)))
        self._relay = _Relay()          # no parent: the jobs keep it alive until they end
        self._relay.finished.connect(self._finished)
        self._relay.failed.connect(self._failed)
        self._gens = itertools.count(1)
        self._running: dict[str, int] = {}
        self._waiting: dict[str, tuple] = {}

    def submit(self, channel: str, fn: Callable, *args) -> int:
        """Ask for ``fn(*args)`` on ``channel``; returns the request's number.

        If the channel is busy the request waits, replacing any request already waiting.
        """
        gen = next(self._gens)
        if channel in self._running:
            self._waiting[channel] = (gen, fn, args)
        else:
            self._start(channel, gen, fn, args)
        return gen

    def busy(self, channel: str | None = None) -> bool:
        """Whether ``channel`` (any channel for None) has a job running or waiting."""
        if channel is None:
            return bool(self._running or self._waiting)
        return channel in self._running or channel in self._waiting

    def wait(self, msecs: int = -1) -> bool:
        """Block until the running jobs end (waiting requests are dropped); for shutdown."""
        self._waiting.clear()
        return self._pool.waitForDone(msecs)

    def _start(self, channel: str, gen: int, fn: Callable, args: tuple) -> None:
        self._running[channel] = gen
        self._pool.start(_Job(self._relay, channel, gen, fn, args), self.priorities.get(channel, 0))

    def _next(self, channel: str) -> None:
        self._running.pop(channel, None)
        nxt = self._waiting.pop(channel, None)
        if nxt is not None:
            self._start(channel, *nxt)

    def _finished(self, channel: str, gen: int, out) -> None:
        self._next(channel)
        self.done.emit(channel, out)

    def _failed(self, channel: str, gen: int, message: str) -> None:
        self._next(channel)
        self.failed.emit(channel, message)
