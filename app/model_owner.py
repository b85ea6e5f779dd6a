"""The one owner of the model in the window.

:class:`ModelOwner` holds the model that reads the drawing, the live snapshot while a run
trains, the file it came from, whether it is the shipped model and whether it is saved.
Widgets show what its signals send; everything that replaces the model goes through
:meth:`ModelOwner.replace`, which asks before an unsaved model is thrown away and switches
only to a model that works (all or nothing).
"""
from __future__ import annotations

from typing import Callable

import numpy as np
from PySide6.QtCore import QObject, Signal

from engine.net.model import Model

from .prompts import CANCEL, SAVE

__all__ = ["ModelOwner", "check_model"]


def check_model(model: Model) -> None:
    """Raise ValueError unless ``model`` reads a blank 28x28 image into ten probabilities."""
    try:
        proba = np.asarray(model.forward_one(np.zeros((28, 28), np.float32)).proba)
    except Exception as e:          # noqa: BLE001 - any failure refuses the model
        raise ValueError(f"the model cannot read a 28x28 drawing: {e}") from e
    if proba.shape != (1, 10) or not np.all(np.isfinite(proba)):
        raise ValueError(f"the model does not give ten probabilities for a drawing "
                         f"(it gives shape {proba.shape})")


class ModelOwner(QObject):
    """The current model, its live snapshot during training, its path and its state.

    Parameters
    ----------
    ask : callable(text, question) -> str, optional
        Asks whether to save an unsaved model: ``"save"``, ``"discard"`` or ``"cancel"``.
        Without it an unsaved model is never discarded.
    save : callable() -> bool, optional
        Saves the current model (a file dialog); True when saved.

    Signals
    -------
    modelChanged(object)
        The model that now reads the drawing (the live snapshot while training, else the
        current model): sent once per change.
    stateChanged()
        The path, the unsaved flag, the shipped flag or the training state changed.
    """

    modelChanged = Signal(object)
    stateChanged = Signal()

    def __init__(self, ask: Callable[[str, str], str] | None = None,
                 save: Callable[[], bool] | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.ask = ask
        self.save = save
        self._model: Model | None = None
        self._live: Model | None = None
        self._path: str | None = None
        self._shipped = False
        self._unsaved = False
        self._training = False

    # -- reading ------------------------------------------------------------------------
    def model(self) -> Model | None:
        """The current model (what Step continues, what Save writes)."""
        return self._model

    def live(self) -> Model | None:
        """The snapshot of the run in progress, or None."""
        return self._live

    def view_model(self) -> Model | None:
        """The model that reads the drawing: the live snapshot while training, else the current one."""
        return self._live if self._live is not None else self._model

    def path(self) -> str | None:
        """The file the current model came from or was saved to (None: never saved, or shipped)."""
        return self._path

    def is_shipped(self) -> bool:
        return self._shipped

    def is_unsaved(self) -> bool:
        """Whether the current model was trained here and not saved since."""
        return self._unsaved

    def is_training(self) -> bool:
        return self._training

    # -- asking ---------------------------------------------------------------------------
    def may_discard(self, question: str = "Save it first?") -> bool:
        """True when the current model may be replaced: it is saved, or the user said to
        discard it, or saved it now. False: keep it (cancelled, or the save failed)."""
        if not self._unsaved:
            return True
        if self.ask is None:
            return False
        answer = self.ask(f"The trained model ({self._model.name}) has not been saved.", question)
        if answer == CANCEL:
            return False
        if answer == SAVE:
            return bool(self.save and self.save())
        return True

    # -- changing -------------------------------------------------------------------------
    def replace(self, model: Model, *, path: str | None = None, shipped: bool = False,
                unsaved: bool = False, question: str = "Save it first?") -> bool:
        """Make ``model`` the current model, asking first if the current one is unsaved.

        Refused (False) while a run trains, or when the user keeps the current model.
        Raises ValueError, leaving everything as it was, when ``model`` cannot read a drawing.
        """
        if self._training:
            return False
        check_model(model)
        if not self.may_discard(question):
            return False
        self.set_model(model, path=path, shipped=shipped, unsaved=unsaved)
        return True

    def set_model(self, model: Model, *, path: str | None = None, shipped: bool = False,
                  unsaved: bool = False) -> None:
        """Make ``model`` current without asking (the end of a run, the first model)."""
        self._model = model
        self._path = path
        self._shipped = shipped
        self._unsaved = unsaved
        self._live = None
        self.stateChanged.emit()
        self.modelChanged.emit(model)

    def set_live(self, model: Model | None) -> None:
        """Show a snapshot of the run in progress (a copy the run no longer touches); None: back
        to the current model."""
        if model is None and self._live is None:
            return
        self._live = model
        self.modelChanged.emit(self.view_model())

    def set_training(self, training: bool) -> None:
        """A run started (the model cannot be replaced from outside) or ended."""
        if training == self._training:
            return
        self._training = training
        if not training and self._live is not None:
            self._live = None
            self.modelChanged.emit(self._model)
        self.stateChanged.emit()

    def mark_saved(self, path: str) -> None:
        self._path = str(path)
        self._shipped = False
        self._unsaved = False
        self.stateChanged.emit()
