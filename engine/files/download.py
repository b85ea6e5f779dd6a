"""A bounded, stoppable HTTP download to a file: a deadline for the whole, a size cap, a hash.

The network is read on a helper thread, so the caller's deadline and ``should_stop`` are
honoured even while a connection or a read waits (each of which is also bounded by
``timeout``). The file appears only once it is complete and verified
(:func:`engine.files.safefile.atomic_write`). Every failure, of the network or of the disk,
raises the caller's error class with a message saying why.
"""
from __future__ import annotations

import hashlib
import queue
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable

from .safefile import atomic_write, check_stop

__all__ = ["fetch", "reason"]

_BLOCK = 1 << 16
_POLL = 0.1


def reason(e) -> str:
    """A short human reason for a network failure."""
    if isinstance(e, urllib.error.HTTPError):
        return f"HTTP {e.code} {e.reason}"
    if isinstance(e, urllib.error.URLError):
        e = e.reason
    if isinstance(e, TimeoutError) or "timed out" in str(e):
        return "timed out (no network?)"
    text = getattr(e, "strerror", None) or str(e) or type(e).__name__
    if "Name or service not known" in text or "Temporary failure in name resolution" in text \
            or "nodename nor servname" in text:
        return f"no network ({text})"
    return text


class _Reader(threading.Thread):
    """Opens the URL and reads it block by block into a small queue, until told to stop."""

    def __init__(self, url: str, timeout: float):
        super().__init__(name="digitlab-download", daemon=True)
        self.url, self.timeout = url, timeout
        self.queue: queue.Queue = queue.Queue(maxsize=32)
        self.stopped = threading.Event()

    def _put(self, item) -> None:
        while not self.stopped.is_set():
            try:
                self.queue.put(item, timeout=_POLL)
                return
            except queue.Full:
                continue

    def run(self) -> None:
        try:
            response = urllib.request.urlopen(self.url, timeout=self.timeout)
        except BaseException as e:      # noqa: BLE001 - reported to the caller's thread
            self._put(("error", e))
            return
        with response:
            self._put(("length", response.headers.get("Content-Length")))
            while not self.stopped.is_set():
                try:
                    block = response.read(_BLOCK)
                except BaseException as e:      # noqa: BLE001
                    self._put(("error", e))
                    return
                self._put(("block", block))
                if not block:
                    return


def fetch(url: str, target, *, error: type[Exception], sha256: str | None = None,
          timeout: float = 15.0, deadline: float = 600.0, max_bytes: int,
          progress: Callable[[int, int], object] | None = None,
          should_stop: Callable[[], bool] | None = None,
          clock: Callable[[], float] = time.monotonic) -> Path:
    """Download ``url`` to ``target``, whole and verified or not at all.

    Parameters
    ----------
    url : str
    target : str or Path
        Written atomically; its folder must exist.
    error : exception class
        Raised on every failure (network, disk, size, hash, deadline), with the reason.
    sha256 : str, optional
        The expected SHA-256 of the file, in hex.
    timeout : float
        Seconds to wait for the connection and for each block.
    deadline : float
        Seconds the whole download may take.
    max_bytes : int
        The largest file accepted (announced or received).
    progress : callable(bytes_done, bytes_total), optional
        Called after each block; ``bytes_total`` is 0 when the server does not say.
        Returning ``False`` cancels the download (``error`` is raised).
    should_stop : callable, optional
        Polled while waiting; True raises :class:`engine.files.safefile.Cancelled`.
    clock : callable
        Seconds, for the deadline.

    Returns
    -------
    Path
        ``target``.
    """
    target = Path(target)
    end = clock() + deadline
    reader = _Reader(url, timeout)
    reader.start()

    def next_item(done: int):
        while True:
            check_stop(should_stop, "the download")
            if clock() >= end:
                raise error(f"downloading {url}: took longer than {deadline:g} s (stopped after "
                            f"{done:,} bytes)")
            try:
                return reader.queue.get(timeout=_POLL)
            except queue.Empty:
                continue

    def failed(e: BaseException, done: int) -> Exception:
        after = f" after {done:,} bytes" if done else ""
        return error(f"downloading {url} failed{after}: {reason(e)}")

    try:
        kind, value = next_item(0)
        if kind == "error":
            raise failed(value, 0)
        try:
            total = int(value) if value not in (None, "") else 0
            if total < 0:
                raise ValueError
        except (TypeError, ValueError):
            raise error(f"downloading {url}: the server sent a bad Content-Length ({value!r})") from None
        if total > max_bytes:
            raise error(f"downloading {url}: the server announces {total:,} bytes, more than the "
                        f"{max_bytes:,} expected")
        digest, done = hashlib.sha256(), 0
        with atomic_write(target, error) as fh:
            while True:
                kind, value = next_item(done)
                if kind == "error":
                    raise failed(value, done)
                if not value:
                    break
                done += len(value)
                if done > max_bytes:
                    raise error(f"downloading {url}: more than the {max_bytes:,} bytes expected")
                fh.write(value)
                digest.update(value)
                if progress is not None and progress(done, total) is False:
                    raise error(f"downloading {url}: cancelled")
            if total and done != total:
                raise error(f"downloading {url}: got {done:,} of {total:,} bytes")
            if sha256 is not None and digest.hexdigest() != sha256:
                raise error(f"downloading {url}: the file is corrupt (SHA-256 mismatch)")
        return target
    finally:
        reader.stopped.set()
