"""What the first reading needs, done before the user draws and off the event loop.

The first forward pass of a model compiles (or loads from numba's cache) the convolution
loops, and the first preprocessing imports and traces its code: half a second that, on
the event loop, merges the first stroke's mouse moves into a straight line. :class:`WarmUp`
does both in a plain thread as soon as the window has its model, and reads the data the
explanations need; :func:`app.main_window.run` shows the window once it is done, and until
then a window shown early draws but does not read (the reading follows).
"""
from __future__ import annotations

import threading

import numpy as np

from engine.preprocess import to_mnist

__all__ = ["WarmUp", "sample_drawing"]


def sample_drawing(size: int = 280) -> np.ndarray:
    """A stand-in drawing: a thick vertical bar, ``(size, size)`` float32 in [0, 1]."""
    img = np.zeros((size, size), np.float32)
    img[size // 5: size - size // 5, size // 2 - size // 24: size // 2 + size // 24] = 1.0
    return img


class WarmUp:
    """Run one forward pass of a model (and both preprocessings) in a background thread.

    Attributes
    ----------
    explanations : bool
        Also read the data the explanations index (the bundled sample), once.
    error : BaseException or None
        What went wrong, if anything (the window then reads on the event loop as before).
    waits : int
        How many calls to :meth:`wait` found it unfinished and blocked.
    """

    def __init__(self, explanations: bool = True):
        self.explanations = explanations
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None
        self.waits = 0

    def start(self, model) -> None:
        """Begin warming up with ``model`` (an :class:`engine.model.Model`); once only."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, args=(model,), name="digitlab-warm-up",
                                        daemon=True)
        self._thread.start()

    def _run(self, model) -> None:
        try:
            img = sample_drawing()
            to_mnist(img, preprocess=False)
            x = to_mnist(img, preprocess=True)
            model.see(x)
            model.predict_proba(x[None])         # the fused loop's serial path (other views)
            if self.explanations:
                from engine.data import load_sample
                load_sample("explanations")      # read once, kept: the Why? dock's data
        except BaseException as e:      # noqa: BLE001 - reported through .error, never raised here
            self.error = e
        finally:
            self._done.set()

    def is_done(self) -> bool:
        """Whether the warm-up has finished (False before :meth:`start`)."""
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the warm-up at most ``timeout`` seconds; True when it is done. A wait
        that had to block is counted in :attr:`waits`."""
        if self._thread is None or self._done.is_set():
            return True
        self.waits += 1
        return self._done.wait(timeout)
