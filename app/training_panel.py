"""Training panel (placeholder with the agreed interface; the real one replaces it)."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


class TrainingPanel(QWidget):
    """Train the network inside the window and watch it learn.

    Signals
    -------
    liveModel(object)
        A snapshot copy of the model being trained (a few a second while training), for
        the drawing views to classify the user's drawing live.
    modelTrained(object)
        The trained model when a run ends (or is stopped), to become the model used for drawing.
    statusMessage(str)
        A message for the status bar.
    trainingStarted(), trainingStopped()
    """

    liveModel = Signal(object)
    modelTrained = Signal(object)
    statusMessage = Signal(str)
    trainingStarted = Signal()
    trainingStopped = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("Training panel"))
        self._model = None
        self._unsaved = False

    def set_model(self, model) -> None:
        """The current model (training continues from it unless weights are reset)."""
        self._model = model

    def set_probe(self, image01) -> None:
        """The user's current drawing, (28, 28) float in [0, 1], or None."""

    def is_training(self) -> bool:
        return False

    def has_unsaved_model(self) -> bool:
        return self._unsaved

    def mark_saved(self) -> None:
        self._unsaved = False

    def shutdown(self) -> None:
        """Stop training and wait for the worker thread (call from closeEvent)."""
