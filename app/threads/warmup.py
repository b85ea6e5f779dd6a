"""What the first reading needs, done before the user draws and off the event loop.

The first forward pass of a model compiles (or loads from numba's cache) the convolution
loops, and the first preprocessing imports and traces its code: half a second that, on
the event loop, merges the first stroke's mouse moves into a straight line. :class:`WarmUp`
does both as a job of :mod:`app.threads.jobs` (a :class:`~app.threads.jobs.FunctionPool` of one thread)
as soon as the window has its model (and, if asked, reads the data the explanations need).
:func:`app.main_window.run` shows the window at once: until the warm-up is done the canvas
takes strokes but is not read (:class:`app.reading.reader.DrawingReader` tries again shortly and
the canvas says the reading follows).

With numba's on-disk cache cold, the compile is done by a short child process
(:func:`compile_in_child`): numba's compiler is Python code that makes a great many
objects, and run in this process it holds the GIL for long stretches and leaves their
garbage to the GUI thread's collector (:mod:`app.gc_guard`), so that the first stroke's
event-loop turns reached a tenth of a second. The child fills the cache, and the
warm-up then only loads the compiled loops from it, as on every later start.
"""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np

from engine.net import conv_loops  # noqa: F401 - numba, imported here before the window shows
from engine.net.preprocess import to_mnist
from engine.net.reading import read

from .jobs import FunctionPool, Ticket

__all__ = ["WarmUp", "compile_in_child", "loops_cached", "sample_drawing"]

# The engine imports numba (0.2 s) only when a compiled loop is first needed, so that the
# command line's commands that train nothing start without it. The window imports it above,
# on the GUI thread before it shows: left to the warm-up thread, the import ran beside the
# first paint and held the interpreter, and the first paint took 150-220 ms instead of 60-100.

#: The longest wait for the child that compiles on a cold cache, in seconds.
CHILD_TIMEOUT_S = 120.0

#: What the child runs: the forward pass and the reading (with its distortions' warp) of the
#: shipped model in the given dtype, which compiles (and caches) the same loops as the window's
#: first reading; at low priority.
_CHILD = ("import os, sys; getattr(os, 'nice', int)(5); import numpy as np; import engine; "
          "m = engine.load_model().astype(sys.argv[1]); x = np.zeros((1, 28, 28), np.float32); x[0, 4:24, 12:16] = 1; "
          "m.predict_proba(x); engine.read(m, x)")


def loops_cached(dtype) -> bool:
    """Whether numba's on-disk cache holds the reading's compiled loop for ``dtype``
    (True when that cannot be told: the warm-up then compiles in this process)."""
    try:
        from numba import from_dtype

        from engine.net.conv_loops import _conv_max_serial
        want = from_dtype(np.dtype(dtype))
        index = _conv_max_serial._cache._cache_file._load_index()     # numba's cache index
        return any(key[0][1].dtype == want for key in index)
    except Exception:   # noqa: BLE001 - numba's internals differ: behave as before
        return True


def compile_in_child(dtype, timeout: float = CHILD_TIMEOUT_S) -> bool:
    """Compile the reading's loop for ``dtype`` into numba's on-disk cache in a child
    process (the same interpreter and environment); True when it succeeded."""
    try:
        done = subprocess.run([sys.executable, "-c", _CHILD, np.dtype(dtype).name], env=dict(os.environ),
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=timeout)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def sample_drawing(size: int = 280) -> np.ndarray:
    """A stand-in drawing: a thick vertical bar, ``(size, size)`` float32 in [0, 1]."""
    img = np.zeros((size, size), np.float32)
    img[size // 5: size - size // 5, size // 2 - size // 24: size // 2 + size // 24] = 1.0
    return img


class WarmUp:
    """Run one forward pass of a model (and both preprocessings) off the GUI thread.

    Attributes
    ----------
    explanations : bool
        Also read the data the explanations index (the bundled sample), once.
    error : BaseException or None
        What went wrong, if anything (the window then reads on the event loop as before).
    waits : int
        How many calls to :meth:`wait` found it unfinished and blocked.
    """

    def __init__(self, explanations: bool = True, parent=None):
        self.explanations = explanations
        self._pool = FunctionPool(parent, threads=1)
        self._ticket: Ticket | None = None
        self.waits = 0

    @property
    def error(self) -> BaseException | None:
        return self._ticket.error if self._ticket is not None else None

    def start(self, model) -> None:
        """Begin warming up with ``model`` (an :class:`engine.net.model.Model`); once only."""
        if self._ticket is None:
            self._ticket = self._pool.submit("warm-up", self._run, model)

    def _run(self, model) -> None:
        if not loops_cached(model.dtype):
            compile_in_child(model.dtype)        # else the forward pass below compiles here
        img = sample_drawing()
        to_mnist(img, preprocess=False)
        x = to_mnist(img, preprocess=True)
        read(model, x[None], model.forward_one(x))   # the reading (its distortions too)
        model.predict_proba(x[None])         # the fused loop's serial path (other views)
        if self.explanations:
            from engine.files.data import load_sample
            load_sample("explanations")      # read once, kept: the Why? dock's data

    def is_done(self) -> bool:
        """Whether the warm-up has finished (False before :meth:`start`)."""
        return self._ticket is not None and self._ticket.is_done()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the warm-up at most ``timeout`` seconds; True when it is done. A wait
        that had to block is counted in :attr:`waits`."""
        if self._ticket is None or self._ticket.is_done():
            return True
        self.waits += 1
        return self._ticket.wait(timeout)
