"""The reader of the drawing: one object from a canvas change to one :class:`Reading`.

:class:`DrawingReader` owns everything between the canvas and the views: the throttle
(at most one reading per :data:`THROTTLE_MS` while drawing, one at once when a stroke
ends), the warm-up gate (while the first compile runs off the GUI thread it tries again
shortly, so every mouse move reaches the canvas), the preprocessing, the forward pass of
the model that reads the drawing (a snapshot copy while a run trains), the verdict
(a digit or not) and, with preprocessing off, the comparison reading of the
preprocessed input. It sends one :class:`Reading` through :attr:`DrawingReader.readingChanged`;
the prediction, the net's views, the timeline, the Train tab and the Why? tab listen.
Until the first reading the canvas says that the reading follows (:data:`WARMING_UP`); a
test image put on the canvas (:meth:`DrawingReader.put_exact`, from the errors' gallery) is
read as it is until the canvas changes.

The verdict is :func:`engine.read`'s, the one public rule (:func:`verdict`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal, Slot

from engine.net.model import Forward, Model
from engine.net.preprocess import to_mnist
from engine.net.reading import NOT_SURE_BELOW, read

__all__ = ["THROTTLE_MS", "WARMING_UP", "Reading", "DrawingReader", "verdict"]

THROTTLE_MS = 30
"""At most one reading per this many milliseconds while drawing."""
WARMING_UP = "Getting ready to read… draw now: the reading follows"
"""The canvas's foot line until the first reading (the warm-up's compile runs meanwhile)."""


@dataclass(frozen=True)
class Reading:
    """One reading of the drawing.

    Attributes
    ----------
    input : ndarray, (28, 28) float32 in [0, 1]
        The network's input for the drawing.
    model : Model or None
        The model that read it (None: no reading yet).
    forward : Forward or None
        Its forward pass of ``input`` (every feature map).
    proba : ndarray (10,) or None
        :func:`engine.read`'s probabilities; None when nothing is drawn.
    verdict : str
        :func:`engine.read`'s verdict: ``"digit"``, ``"not sure"`` or ``"not a digit"``
        (``"digit"`` for a blank canvas: nothing to say).
    preprocess : bool
        Whether the input was preprocessed like MNIST.
    comparison : tuple or None
        With preprocessing off and ink drawn: ``((pre (28, 28), proba (10,)), (raw, proba))``,
        the preprocessed reading beside the raw one.
    """

    input: np.ndarray
    model: Model | None = None
    forward: Forward | None = None
    proba: np.ndarray | None = None
    verdict: str = "digit"
    preprocess: bool = True
    comparison: tuple | None = None

    @property
    def digit(self) -> bool:
        """The drawing reads as a digit (or is blank)."""
        return self.verdict != "not a digit"

    @property
    def empty(self) -> bool:
        """Nothing is drawn."""
        return self.proba is None


def verdict(model: Model, x: np.ndarray, forward: Forward) -> tuple[np.ndarray, str]:
    """:func:`engine.read`'s probabilities ``(10,)`` and verdict on ``x`` ``(28, 28)`` (the
    probabilities of a model trained with augmentation are averaged over small distortions
    of ``x``, so they may differ a little from ``forward``'s)."""
    r = read(model, x[None], forward)
    return r.proba[0], str(r.verdict[0])


class DrawingReader(QObject):
    """Reads ``canvas`` with the model ``owner`` shows, throttled, after the warm-up.

    Parameters
    ----------
    canvas : app.reading.canvas.DrawingCanvas
    owner : app.model_owner.ModelOwner
        :meth:`~app.model_owner.ModelOwner.view_model` reads the drawing.
    warmup : app.threads.warmup.WarmUp
        The first reading waits for it (off the event loop while drawing).

    Signals
    -------
    readingChanged(Reading)
        After each reading.

    Attributes
    ----------
    exact_input : ndarray (28, 28) float32 or None
        A test image put on the canvas (:meth:`put_exact`), read as it is until the canvas
        changes.
    """

    readingChanged = Signal(object)

    def __init__(self, canvas, owner, warmup, parent=None, preprocess: bool = True):
        super().__init__(parent)
        self.canvas, self.owner, self.warmup = canvas, owner, warmup
        self._preprocess = bool(preprocess)
        self.last = Reading(np.zeros((28, 28), np.float32), preprocess=self._preprocess)
        self.exact_input: np.ndarray | None = None
        self.timer = QTimer(self)                 # the throttle while drawing
        self.timer.setSingleShot(True)
        self.timer.setInterval(THROTTLE_MS)
        self.timer.timeout.connect(self.read_when_ready)
        canvas.imageChanged.connect(lambda: setattr(self, "exact_input", None))   # drawn on
        canvas.imageChanged.connect(self.schedule)
        canvas.set_notice(WARMING_UP)             # (until the first reading)
        canvas.strokeFinished.connect(self.stroke_finished)
        owner.modelChanged.connect(lambda _m: self.read_when_ready())

    # -- settings ----------------------------------------------------------------------------
    def preprocess(self) -> bool:
        return self._preprocess

    def set_preprocess(self, on: bool) -> None:
        """Preprocess like MNIST or only shrink the canvas; reads again."""
        self._preprocess = bool(on)
        self.read_now()

    def network_input(self) -> np.ndarray:
        """The 28x28 image the network receives for the current drawing, float32 in [0, 1]
        (a test image put on the canvas from the errors' gallery: that image as it is)."""
        if self.exact_input is not None:
            return self.exact_input
        return to_mnist(self.canvas.image(), preprocess=self._preprocess)

    def put_exact(self, image01: np.ndarray) -> None:
        """Put a test image ``(28, 28)`` in [0, 1] on the canvas and read it as it is (no
        second preprocessing, no "not a digit" verdict: it reads as where it came from);
        once the canvas changes, it is read as a drawing."""
        self.canvas.set_image(image01)
        self.exact_input = np.array(image01, np.float32)
        self.read_now()

    # -- when to read ------------------------------------------------------------------------
    @Slot()
    def schedule(self) -> None:
        """At most one reading per THROTTLE_MS while drawing: the first change starts the
        timer, later ones wait for it."""
        if not self.timer.isActive():
            self.timer.start()

    def stroke_finished(self) -> None:
        self.timer.stop()
        self.read_when_ready()

    def read_when_ready(self) -> None:
        """Read the drawing, or, while the first reading's compile runs, try again shortly
        (the event loop stays free: every mouse move of a stroke reaches the canvas)."""
        if self.warmup.is_done():
            self.read_now()
        else:
            self.timer.start()

    # -- reading -----------------------------------------------------------------------------
    @Slot()
    def read_now(self) -> Reading | None:
        """Read the drawing once with the model that reads it and send the reading.

        While a run trains this model is a snapshot copy: the arrays being trained are
        never read here."""
        self.timer.stop()
        model = self.owner.view_model()
        if model is None:
            return None
        self.warmup.wait()
        self.canvas.set_notice(None)
        x = self.network_input()
        empty = not np.any(x > 0)
        fwd = model.forward_one(x)
        proba, said = (None, "digit") if empty else verdict(model, x, fwd)
        if said == "not a digit" and self.exact_input is not None:    # a test digit, read as it is
            said = "digit" if proba.max() >= NOT_SURE_BELOW else "not sure"
        comparison = None
        if proba is not None and not self._preprocess and self.exact_input is None:
            pre = to_mnist(self.canvas.image(), preprocess=True)
            comparison = ((pre, model.forward_one(pre).proba[0]), (x, proba))
        self.last = Reading(x, model, fwd, proba, said, self._preprocess, comparison)
        self.readingChanged.emit(self.last)
        return self.last
