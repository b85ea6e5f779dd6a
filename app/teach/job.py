"""The work behind the Teach tab, run off the GUI thread by :class:`app.threads.jobs.GeneratorJob`:
a guarded fine-tuning (:func:`finetune_job`), reading a file to import (:func:`import_job`)
and writing a large collection (:func:`save_job`). Each is a factory returning
``work(worker)``, a generator of events; none touches a widget.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.files.safefile import Cancelled
from engine.handwriting.collection import Collection, load_collection, save_collection
from engine.handwriting.finetune_guard import Guarded, guarded_finetune
from engine.net.model import Model

__all__ = ["FinetuneProgress", "Tuned", "finetune_job", "ImportRead", "ImportFailed", "import_job", "Saved", "save_job",
           "is_pen_file"]


@dataclass(frozen=True)
class FinetuneProgress:
    done: int
    total: int


@dataclass(frozen=True)
class Tuned:
    """A finished fine-tuning and its check (fractions; ``mnist_after`` is NaN when not kept).

    Attributes
    ----------
    model : Model or None
        The tuned model, or None when the check did not keep it (:attr:`guard` says why).
    guard : Guarded
    own_before, own_after : float
        The collection read right by the starting model, and by tuned models that did not
        learn the drawing they read (cross-validation).
    mnist_before, mnist_after : float
        The forgetting meter.
    seconds : float
    """

    model: Model | None
    guard: Guarded
    own_before: float
    own_after: float
    mnist_before: float
    mnist_after: float
    seconds: float


def _accuracy(model: Model, X: np.ndarray, y: np.ndarray) -> float:
    return float((model.predict_proba(X).argmax(1) == y).mean()) if len(y) else float("nan")


def finetune_job(model: Model, images: np.ndarray, labels: np.ndarray, check=None, settings=None):
    """A guarded fine-tuning (:func:`engine.handwriting.finetune_guard.guarded_finetune`): yields
    :class:`FinetuneProgress` and, last, :class:`Tuned`. ``check``: MNIST images ``(M, 28, 28)``
    in [0, 1] and labels for the forgetting meter (default: the bundled sample's test digits).
    ``settings``: overrides of :data:`engine.handwriting.finetune.FINETUNE_DEFAULTS`."""
    def work(worker):
        t0 = time.perf_counter()
        if check is None:
            from engine.files.data import load_sample
            ds = load_sample()
            Xc, yc = ds.test_images / 255.0, ds.test_labels
        else:
            Xc, yc = check
        mnist_before = _accuracy(model, Xc, yc)
        g = guarded_finetune(model, images, labels, should_stop=worker.stop_requested,
                             progress=lambda d, t: worker.report(FinetuneProgress(d, t)), **(settings or {}))
        if g is None or worker.stop_requested():
            return
        n = max(g.n, 1)
        mnist_after = _accuracy(g.model, Xc, yc) if g.model is not None else float("nan")
        yield Tuned(g.model, g, g.before / n, g.held_out / n if g.folds else float("nan"),
                    mnist_before, mnist_after, time.perf_counter() - t0)
    return work


def is_pen_file(path) -> bool:
    """Whether ``path`` names a pen recording (``.unipen``, ``.unipen.gz``, ``.txt``) rather than a
    collection (``.npz``)."""
    name = Path(path).name.lower()
    return not name.endswith(".npz")


@dataclass(frozen=True)
class ImportRead:
    """A file read for import: its drawings and which of them the collection lacks.

    Attributes
    ----------
    path : str
    other : Collection
        Everything the file holds.
    new : ndarray of int, (K,)
        Indices in ``other`` of the drawings the collection does not hold yet.
    skipped : int
        Samples of a pen recording that are not digits (letters), left out.
    """

    path: str
    other: Collection
    new: np.ndarray
    skipped: int = 0


@dataclass(frozen=True)
class ImportFailed:
    """A file that could not be imported: one line naming it and the fault."""

    message: str


def import_job(path, have: Collection):
    """Read a collection file or a pen recording (rendered as the canvas would draw it) and
    find what ``have`` (a snapshot) lacks; yields one :class:`ImportRead`, or
    :class:`ImportFailed` for a file that cannot be read."""
    def work(worker):
        skipped = 0
        try:
            if is_pen_file(path):
                from engine.handwriting.collection_pen import import_pen
                other, skipped = import_pen(path, should_stop=worker.stop_requested)
            else:
                other = load_collection(path)
        except Cancelled:
            return
        except (ValueError, OSError) as e:          # CollectionError and UnipenError are ValueErrors
            yield ImportFailed(str(e) if str(path) in str(e) else f"{path}: {e}")
            return
        if worker.stop_requested():
            return
        yield ImportRead(str(path), other, have.new_in(other), skipped)
    return work


@dataclass(frozen=True)
class Saved:
    path: str
    count: int


def save_job(collection: Collection, path):
    """Write a snapshot of the collection (:meth:`Collection.snapshot`); yields :class:`Saved`."""
    def work(worker):
        save_collection(collection, path)
        yield Saved(str(path), len(collection))
    return work
