"""The Teach tab: corrections into a personal collection, Teach mode, a guarded fine-tuning
with before/after and a forgetting meter, and undo.

:class:`TeachPanel` keeps the collection (:mod:`engine.handwriting.collection`) in a file, by default
``collection.npz`` in the user's data folder (``QStandardPaths.AppDataLocation``). "That's
wrong — it's a …" (a button per digit; the digit keys on the canvas) keeps the drawing and its
strokes with that digit: the key or button pressed sets the label, in Teach mode too (which
asks for each digit twice and crosses off what it gets). *Fine-tune* runs
:func:`app.teach.job.finetune_job` in a :class:`app.threads.jobs.GeneratorJob`; the tuned model
replaces the current one only when the cross-validated check says it reads the collection at
least as well, and the panel says plainly when it was not kept. *Undo fine-tuning* puts the
previous model back, with its file and saved state. The work itself lives in
:mod:`app.teach.job`; the gallery in :mod:`app.teach.collection_view`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
from PySide6.QtCore import QStandardPaths, Signal
from PySide6.QtWidgets import (QGridLayout, QGroupBox, QHBoxLayout, QLabel, QProgressBar, QPushButton,
                               QVBoxLayout, QWidget)


from engine.handwriting import collection as collection_file
from engine.handwriting.collection import Collection, CollectionError, load_collection, save_collection

from ..model_owner import ModelOwner
from ..threads.jobs import GeneratorJob
from ..train.words import counted
from .collection_view import CollectionView
from .job import FinetuneProgress, Tuned, finetune_job, save_job

__all__ = ["TeachPanel", "default_collection_path", "TEACH_ROUNDS", "Tuned", "finetune_job",
           "BACKGROUND_SAVE_AT"]

#: Teach mode asks for each digit this many times.
TEACH_ROUNDS = 2
#: Collections at least this large are saved off the GUI thread.
BACKGROUND_SAVE_AT = 2_000


def default_collection_path() -> Path:
    """``collection.npz`` in the user's data folder."""
    folder = QStandardPaths.writableLocation(QStandardPaths.AppDataLocation) or str(Path.home() / ".digitlab")
    return Path(folder) / "collection.npz"


def _aside(path: Path) -> Path:
    """A free name beside ``path`` for a file that could not be read: ``collection.unreadable-1.npz``, ..."""
    for i in range(1, 10_000):
        p = path.with_name(f"{path.stem}.unreadable-{i}{path.suffix}")
        if not p.exists():
            return p
    raise CollectionError(f"{path}: no free name to keep the unreadable file aside")


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
    strokes : callable () -> list, optional
        The current drawing's strokes (the canvas's ``strokes()``), kept with it.

    Signals
    -------
    statusMessage(str)
    tuned(object)
        A :class:`Tuned` once the fine-tuning and its check ended (``model`` None: not kept).
    useInTraining(str)
        The collection's file, to include in the Train tab's runs.
    """

    statusMessage = Signal(str)
    tuned = Signal(object)
    useInTraining = Signal(str)

    def __init__(self, owner: ModelOwner, prompts, drawing: Callable, clear: Callable, path=None, parent=None,
                 strokes: Callable | None = None):
        super().__init__(parent)
        self.owner, self.prompts = owner, prompts
        self._drawing, self._clear, self._strokes = drawing, clear, strokes or (lambda: [])
        self.path = Path(path) if path is not None else default_collection_path()
        self.collection = Collection()
        self.previous: tuple | None = None        # (model, path, shipped, unsaved) before the last fine-tuning
        self._tuned_model = None                  # the model that fine-tuning made current
        self.queue: list[int] = []
        self.check = None                    # the forgetting meter's digits (default: the sample)
        self.finetune_settings: dict = {}    # overrides of engine.handwriting.finetune.FINETUNE_DEFAULTS
        self.unreadable: str | None = None   # why the collection file could not be read (kept aside on save)
        self.worker = GeneratorJob((FinetuneProgress,), parent=self)
        self.worker.yielded.connect(self._on_event)
        self.worker.errored.connect(lambda text: self._failed(text))
        self.worker.finished.connect(self._on_finished)
        self.saver = GeneratorJob(parent=self)
        self.saver.errored.connect(lambda text: self.prompts.error("Personal collection", text))
        self.saver.finished.connect(self._save_finished)
        self._save_pending = False

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
        self.finetune_button.setToolTip("Teach the model your collection; the result is kept only if, checked on "
                                        "drawings it did not learn, it reads your handwriting at least as well, "
                                        "and it forgets at most half a point of 1,000 MNIST digits")
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
        owner.stateChanged.connect(self._update)
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
        """Read the collection file. A missing file: an empty collection. One that cannot be
        read (damaged, or over the limit) is said and never overwritten: the next save moves it
        aside first."""
        if self.path.exists():
            try:
                self.collection = load_collection(self.path)
                self.unreadable = None
            except CollectionError as e:
                self.unreadable = str(e)
                self.prompts.error("Personal collection", f"{e}\nThe file is kept as it is: once you keep a "
                                   f"drawing it is moved aside (renamed) and a new collection begins.")
                self.collection = Collection()
        self.view.set_collection(self.collection)
        self._update()

    def _move_unreadable_aside(self) -> bool:
        if self.unreadable is None or not self.path.exists():
            self.unreadable = None
            return True
        try:
            aside = _aside(self.path)
            self.path.rename(aside)
        except (OSError, CollectionError) as e:
            self.prompts.error("Personal collection", f"{self.path}: could not be moved aside ({e}); "
                               "nothing is written over it.")
            return False
        self.unreadable = None
        self.prompts.note("Personal collection", f"The collection file that could not be read is kept as {aside}.")
        return True

    def save(self) -> bool:
        """Write the collection (large ones off the GUI thread). Never writes over a file that
        could not be read (it is moved aside first)."""
        if not self._move_unreadable_aside():
            return False
        if self.saver.is_running():              # after it, whatever the size: never an older state last
            self._save_pending = True
            return True
        if len(self.collection) >= BACKGROUND_SAVE_AT:
            self.saver.start(save_job(self.collection.snapshot(), self.path))
            return True
        try:
            save_collection(self.collection, self.path)
        except CollectionError as e:
            self.prompts.error("Personal collection", str(e))
            return False
        return True

    def _save_finished(self) -> None:
        if self._save_pending:
            self._save_pending = False
            self.save()

    def saving(self) -> bool:
        """A save runs off the GUI thread (or waits to)."""
        return self.saver.is_running() or self._save_pending

    def _collection_edited(self) -> None:
        self.save()
        self._update()

    def correct(self, digit: int) -> bool:
        """Keep the current drawing (and its strokes) as ``digit``: the key or button pressed
        sets the label, in Teach mode too (where it crosses one ``digit`` off what is asked)."""
        x = self._drawing()
        if x is None or not np.any(np.asarray(x) > 0):
            self.statusMessage.emit("Draw a digit first")
            return False
        if not self.collection.room():
            self.prompts.error("Personal collection", f"Your collection is full: it holds "
                               f"{collection_file.MAX_DRAWINGS:,} drawings, the most it may. Remove some to keep "
                               "new ones.")
            return False
        asked = self.queue[0] if self.queue else None
        if digit in self.queue:
            self.queue.remove(digit)
        self.collection.add(x, digit, self._strokes())
        self.save()
        self.view.set_collection(self.collection)
        text = f"kept as a {digit} ({counted(len(self.collection), 'drawing')} in your collection)"
        if asked is not None and asked != digit:
            text += f"; you were asked for a {asked}"
        self.statusMessage.emit(text)
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
        self.result_label.setText("fine-tuning, and checking it on drawings it did not learn…")
        self.worker.start(finetune_job(model, self.collection.images.copy(), self.collection.labels.copy(),
                                       self.check, self.finetune_settings))
        return True

    def _on_event(self, ev) -> None:
        if isinstance(ev, FinetuneProgress):
            self.progress.setRange(0, ev.total)
            self.progress.setValue(ev.done)
        elif isinstance(ev, Tuned):
            self._finish_tuning(ev)

    def _finish_tuning(self, ev: Tuned) -> None:
        g = ev.guard
        if g.nothing_to_learn:
            why = g.reason.removeprefix("not fine-tuned: ")
            self.result_label.setText(f"<b>Not fine-tuned</b>: {why}. The model is unchanged.")
            self.statusMessage.emit("not fine-tuned: the model already reads all your drawings right")
            self.tuned.emit(ev)
            return
        if ev.model is None:
            why = g.reason.removeprefix("not kept: ")
            if g.forgot:
                why = f"it would forget too much of what it knew. {why[:1].upper()}{why[1:]}"
            elif g.folds:
                why = f"it would read your handwriting worse. {why[:1].upper()}{why[1:]}"
            self.result_label.setText(f"<b>The fine-tuned model was not kept</b>: {why}. The model is unchanged.")
            self.statusMessage.emit(f"fine-tuning not kept: {why.split('.')[0]}")
            self.tuned.emit(ev)
            return
        old = self.owner.model()
        state = (old, self.owner.path(), self.owner.is_shipped(), self.owner.is_unsaved())
        ev.model.name = f"{old.name} + my handwriting"
        if self.owner.replace(ev.model, unsaved=True, question="Replace it with the fine-tuned model?"):
            self.previous, self._tuned_model = state, ev.model
            self.owner.stateChanged.emit()
            self.result_label.setText(
                f"Your collection: {g.before} of {g.n} read right before; tuned without them, {g.held_out} "
                f"({g.folds}-fold check) — kept.\n"
                f"Forgetting meter (MNIST digits): {100 * ev.mnist_before:.1f}% → {100 * ev.mnist_after:.1f}%."
                f"\n({ev.seconds:.1f} s)")
            self.tuned.emit(ev)
        else:
            self.result_label.setText("You kept the current model; the fine-tuned one was not used.")
        self._update()           # a question's dialog may have run _on_finished already

    def _failed(self, text: str) -> None:
        self.result_label.setText(f"fine-tuning failed: {text}")

    def _on_finished(self) -> None:
        self.progress.setVisible(False)
        self._update()

    def undo(self) -> bool:
        """Put back the model from before the last fine-tuning (with its file and saved state)."""
        if not self.can_undo():
            return False
        model, path, shipped, unsaved = self.previous
        if self.owner.replace(model, path=path, shipped=shipped, unsaved=unsaved,
                              question="Go back to the model before fine-tuning?"):
            self.previous = self._tuned_model = None
            self.result_label.setText("Back to the model before fine-tuning.")
            self._update()
            return True
        return False

    def shutdown(self, timeout: float) -> bool:
        """Stop the fine-tuning, let a save finish (bounded), write what is still to save."""
        done = self.worker.close(timeout)
        if self.saver.wait(timeout) and self._save_pending:
            self._save_pending = False
            try:
                save_collection(self.collection, self.path)
            except CollectionError as e:
                self.prompts.error("Personal collection", str(e))
        view_done, saver_done = self.view.shutdown(timeout), self.saver.close(timeout)
        return view_done and saver_done and done

    def _update(self) -> None:
        counts = self.collection.counts()
        if self.queue:
            done = TEACH_ROUNDS * 10 - len(self.queue)
            self.ask_label.setText(f"Draw a <b>{self.queue[0]}</b> ({done + 1} of {TEACH_ROUNDS * 10}), then "
                                   "press its digit key (or button) to keep it.")
            self.teach_button.setText("Stop teaching")
        else:
            self.ask_label.setText(f"{counted(len(self.collection), 'drawing')} in your collection "
                                   f"({', '.join(f'{d}: {c}' for d, c in enumerate(counts) if c) or 'none yet'}).")
            self.teach_button.setText("Teach…")
        self.finetune_button.setEnabled(len(self.collection) > 0 and not self.worker.is_running())
        self.undo_button.setEnabled(self.can_undo())
        self.view.update_count()

    def can_undo(self) -> bool:
        """Undo fine-tuning is possible: a fine-tuned model is the current one."""
        return self.previous is not None and self.owner.model() is self._tuned_model

