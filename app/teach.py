"""Teach the model your handwriting: corrections into a personal collection, Teach mode,
fine-tuning in the worker thread with before/after and a forgetting meter, and undo.

:class:`TeachPanel` keeps the collection (:mod:`engine.collection`) in a file, by default
``collection.npz`` in the user's data folder (``QStandardPaths.AppDataLocation``). "That's
wrong — it's a …" (a button per digit; the digit keys on the canvas) keeps the drawing with
its digit. *Teach* asks for each digit twice. *Fine-tune* runs :func:`engine.finetune.finetune`
in a :class:`app.worker.GeneratorWorker` and shows how the collection and the bundled MNIST
test digits read before and after; *Undo fine-tuning* puts the previous model back.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from PySide6.QtCore import QStandardPaths, Signal
from PySide6.QtWidgets import (QGridLayout, QGroupBox, QHBoxLayout, QLabel, QProgressBar, QPushButton,
                               QVBoxLayout, QWidget)

from engine.collection import Collection, CollectionError, load_collection, save_collection
from engine.model import Model

from .collection_view import CollectionView
from .model_owner import ModelOwner
from .worker import GeneratorWorker

__all__ = ["TeachPanel", "default_collection_path", "TEACH_ROUNDS", "Tuned", "finetune_job"]

#: Teach mode asks for each digit this many times.
TEACH_ROUNDS = 2


def default_collection_path() -> Path:
    """``collection.npz`` in the user's data folder."""
    folder = QStandardPaths.writableLocation(QStandardPaths.AppDataLocation) or str(Path.home() / ".digitlab")
    return Path(folder) / "collection.npz"


@dataclass(frozen=True)
class FinetuneProgress:
    done: int
    total: int


@dataclass(frozen=True)
class Tuned:
    """A finished fine-tuning: the new model and the figures before and after (fractions)."""

    model: Model
    own_before: float
    own_after: float
    mnist_before: float
    mnist_after: float
    seconds: float


def _accuracy(model: Model, X: np.ndarray, y: np.ndarray) -> float:
    return float((model.predict_proba(X).argmax(1) == y).mean()) if len(y) else float("nan")


def finetune_job(model: Model, images: np.ndarray, labels: np.ndarray, check=None):
    """The work of a fine-tuning (a generator for :class:`GeneratorWorker`): yields
    :class:`FinetuneProgress` and, last, :class:`Tuned`. ``check``: MNIST images ``(M, 28, 28)``
    in [0, 1] and labels for the forgetting meter (default: the bundled sample's test digits)."""
    import time

    from engine.data import load_sample
    from engine.finetune import finetune

    def work(worker):
        t0 = time.perf_counter()
        if check is None:
            ds = load_sample()
            Xc, yc = ds.test_images / 255.0, ds.test_labels
        else:
            Xc, yc = check
        before = _accuracy(model, images, labels), _accuracy(model, Xc, yc)
        tuned = finetune(model, images, labels, should_stop=worker.stop_requested,
                         progress=lambda d, t: worker.report(FinetuneProgress(d, t)))
        if worker.stop_requested():
            return
        yield Tuned(tuned, before[0], _accuracy(tuned, images, labels), before[1], _accuracy(tuned, Xc, yc),
                    time.perf_counter() - t0)
    return work


class TeachPanel(QWidget):
    """The personal collection and the teach loop.

    Parameters
    ----------
    owner : ModelOwner
    prompts : Prompts
    drawing : callable () -> ndarray (28, 28) or None
        The current drawing as the network receives it (None or blank: nothing drawn).
    clear : callable ()
        Clears the canvas (after a drawing is kept).
    path : str or Path, optional
        The collection's file (default :func:`default_collection_path`).

    Signals
    -------
    statusMessage(str)
    tuned(object)
        A :class:`Tuned` once the new model is the current one.
    useInTraining(str)
        The collection's file, to include in the Train tab's runs.
    """

    statusMessage = Signal(str)
    tuned = Signal(object)
    useInTraining = Signal(str)

    def __init__(self, owner: ModelOwner, prompts, drawing: Callable, clear: Callable, path=None, parent=None):
        super().__init__(parent)
        self.owner, self.prompts = owner, prompts
        self._drawing, self._clear = drawing, clear
        self.path = Path(path) if path is not None else default_collection_path()
        self.collection = Collection()
        self.previous: Model | None = None
        self.queue: list[int] = []
        self.check = None                    # the forgetting meter's digits (default: the sample)
        self.worker = GeneratorWorker((FinetuneProgress,), parent=self)
        self.worker.event.connect(self._on_event)
        self.worker.failed.connect(lambda text: self._failed(text))
        self.worker.finished.connect(self._on_finished)

        wrong = QGroupBox("That's wrong — it's a …")
        grid = QGridLayout(wrong)
        self.digit_buttons = []
        for d in range(10):
            b = QPushButton(str(d))
            b.setToolTip(f"Keep this drawing as a {d} in your collection (key {d} on the canvas)")
            b.clicked.connect(lambda _=False, d=d: self.correct(d))
            grid.addWidget(b, d // 5, d % 5)
            self.digit_buttons.append(b)
        self.teach_button = QPushButton("Teach…")
        self.teach_button.setToolTip(f"Draw each digit {TEACH_ROUNDS} times, as asked")
        self.teach_button.clicked.connect(self.toggle_teach)
        self.ask_label = QLabel("")
        self.ask_label.setWordWrap(True)
        self.finetune_button = QPushButton("Fine-tune on my collection")
        self.finetune_button.clicked.connect(self.start_finetune)
        self.undo_button = QPushButton("Undo fine-tuning")
        self.undo_button.setEnabled(False)
        self.undo_button.clicked.connect(self.undo)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.result_label = QLabel("")
        self.result_label.setWordWrap(True)
        self.view = CollectionView(self)
        self.view.changed.connect(self._collection_edited)
        self.train_button = QPushButton("Use in a training run")
        self.train_button.setToolTip("Add your collection's drawings to the training images of the Train tab")
        self.train_button.clicked.connect(lambda: self.useInTraining.emit(str(self.path)))
        row = QHBoxLayout()
        row.addWidget(self.finetune_button)
        row.addWidget(self.undo_button)
        row.addWidget(self.train_button)
        lay = QVBoxLayout(self)
        lay.addWidget(wrong)
        lay.addWidget(self.teach_button)
        lay.addWidget(self.ask_label)
        lay.addLayout(row)
        lay.addWidget(self.progress)
        lay.addWidget(self.result_label)
        lay.addWidget(self.view, 1)
        self.load()

    # -- the collection ----------------------------------------------------------------
    def load(self) -> None:
        """Read the collection file (a missing file: an empty collection; a damaged one is
        said and left as it is)."""
        if self.path.exists():
            try:
                self.collection = load_collection(self.path)
            except CollectionError as e:
                self.prompts.error("Personal collection", f"{e}\nIt is left as it is; corrections go "
                                   "to a new collection only once you keep one.")
                self.collection = Collection()
        self.view.set_collection(self.collection)
        self._update()

    def save(self) -> bool:
        try:
            save_collection(self.collection, self.path)
        except CollectionError as e:
            self.prompts.error("Personal collection", str(e))
            return False
        return True

    def _collection_edited(self) -> None:
        self.save()
        self._update()

    def correct(self, digit: int) -> bool:
        """Keep the current drawing as ``digit`` (in Teach mode: as the digit asked for)."""
        x = self._drawing()
        if x is None or not np.any(np.asarray(x) > 0):
            self.statusMessage.emit("Draw a digit first")
            return False
        if self.queue:
            digit = self.queue.pop(0)
        self.collection.add(x, digit)
        self.save()
        self.view.set_collection(self.collection)
        self.statusMessage.emit(f"kept as a {digit} ({len(self.collection)} drawings in your collection)")
        self._clear()
        self._update()
        return True

    # -- teach mode ----------------------------------------------------------------------
    def toggle_teach(self) -> None:
        """Start Teach mode (each digit asked for twice), or end it."""
        self.queue = [] if self.queue else [d for d in range(10) for _ in range(TEACH_ROUNDS)]
        self._update()

    def teaching(self) -> bool:
        return bool(self.queue)

    # -- fine-tuning -----------------------------------------------------------------------
    def start_finetune(self) -> bool:
        model = self.owner.model()
        if model is None or len(self.collection) == 0 or self.worker.is_running() or self.owner.is_training():
            self.statusMessage.emit("Keep some drawings first" if len(self.collection) == 0 else
                                    "Fine-tuning must wait")
            return False
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self.finetune_button.setEnabled(False)
        self.result_label.setText("fine-tuning…")
        self.worker.start(finetune_job(model, self.collection.images.copy(), self.collection.labels.copy(),
                                       self.check))
        return True

    def _on_event(self, ev) -> None:
        if isinstance(ev, FinetuneProgress):
            self.progress.setRange(0, ev.total)
            self.progress.setValue(ev.done)
        elif isinstance(ev, Tuned):
            old = self.owner.model()
            if self.owner.replace(ev.model, unsaved=True, question="Replace it with the fine-tuned model?"):
                self.previous = old
                ev.model.name = f"{old.name} + my handwriting"
                self.owner.stateChanged.emit()
                self.result_label.setText(
                    f"Your collection: {100 * ev.own_before:.0f}% → {100 * ev.own_after:.0f}% read right.\n"
                    f"Forgetting meter (MNIST digits): {100 * ev.mnist_before:.1f}% → {100 * ev.mnist_after:.1f}%."
                    f"\n({ev.seconds:.1f} s)")
                self.tuned.emit(ev)
            else:
                self.result_label.setText("The fine-tuned model was not kept.")

    def _failed(self, text: str) -> None:
        self.result_label.setText(f"fine-tuning failed: {text}")

    def _on_finished(self) -> None:
        self.progress.setVisible(False)
        self._update()

    def undo(self) -> bool:
        """Put back the model from before the last fine-tuning."""
        if self.previous is None:
            return False
        if self.owner.replace(self.previous, question="Go back to the model before fine-tuning?"):
            self.previous = None
            self.result_label.setText("Back to the model before fine-tuning.")
            self._update()
            return True
        return False

    def shutdown(self, timeout: float) -> bool:
        return self.worker.close(timeout)

    def _update(self) -> None:
        counts = self.collection.counts()
        if self.queue:
            done = TEACH_ROUNDS * 10 - len(self.queue)
            self.ask_label.setText(f"Draw a <b>{self.queue[0]}</b> ({done + 1} of {TEACH_ROUNDS * 10}), then "
                                   "press any digit key or button to keep it.")
            self.teach_button.setText("Stop teaching")
        else:
            self.ask_label.setText(f"{len(self.collection)} drawings in your collection "
                                   f"({', '.join(f'{d}: {c}' for d, c in enumerate(counts) if c) or 'none yet'}).")
            self.teach_button.setText("Teach…")
        self.finetune_button.setEnabled(len(self.collection) > 0 and not self.worker.is_running())
        self.undo_button.setEnabled(self.previous is not None)
