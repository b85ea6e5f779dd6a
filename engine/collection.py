"""The personal collection: a user's own drawings with the digit each one is.

One ``.npz`` file holds ``images`` ``(N, 28, 28)`` uint8 (0-255, white on black, as
:func:`engine.preprocess.to_mnist` makes them, times 255), ``labels`` ``(N,)`` uint8 (0-9)
and ``format`` (``"digitlab-collection 1"``). It is written atomically
(:mod:`engine.safefile`); a damaged or foreign file is refused with a message naming it,
and nothing of the current collection is lost.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .safefile import FileFault, NpzReader, atomic_write

__all__ = ["CollectionError", "Collection", "load_collection", "save_collection", "FORMAT"]

FORMAT = "digitlab-collection 1"
#: The most drawings a collection file may hold.
MAX_DRAWINGS = 100_000


class CollectionError(FileFault):
    """A collection file that cannot be read or written (the message names it)."""


@dataclass
class Collection:
    """Drawings and their digits.

    Attributes
    ----------
    images : ndarray of float32, (N, 28, 28)
        In [0, 1].
    labels : ndarray of int64, (N,)
    """

    images: np.ndarray = field(default_factory=lambda: np.zeros((0, 28, 28), np.float32))
    labels: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    def __post_init__(self):
        self.images = np.asarray(self.images, np.float32).reshape(-1, 28, 28)
        self.labels = np.asarray(self.labels, np.int64).reshape(-1)
        if len(self.images) != len(self.labels):
            raise ValueError(f"{len(self.images)} drawings but {len(self.labels)} labels")
        if self.labels.size and (self.labels.min() < 0 or self.labels.max() > 9):
            raise ValueError("labels must be digits 0 to 9")

    def __len__(self) -> int:
        return len(self.labels)

    def add(self, image: np.ndarray, label: int) -> None:
        """Add one drawing ``(28, 28)`` in [0, 1] with its digit."""
        if not 0 <= int(label) <= 9:
            raise ValueError(f"a digit is 0 to 9, not {label!r}")
        img = np.clip(np.asarray(image, np.float32), 0, 1).reshape(1, 28, 28)
        self.images = np.concatenate([self.images, img])
        self.labels = np.append(self.labels, int(label))

    def remove(self, indices) -> None:
        """Drop the drawings at ``indices``."""
        keep = np.ones(len(self), bool)
        keep[np.asarray(list(indices), int)] = False
        self.images, self.labels = self.images[keep], self.labels[keep]

    def extend(self, other: "Collection") -> int:
        """Add another collection's drawings that this one does not hold yet; returns how many."""
        have = {(int(l), img.tobytes()) for img, l in zip(self.quantised(), self.labels)}
        new = [i for i, (img, l) in enumerate(zip(other.quantised(), other.labels))
               if (int(l), img.tobytes()) not in have]
        if new:
            self.images = np.concatenate([self.images, other.images[new]])
            self.labels = np.concatenate([self.labels, other.labels[new]])
        return len(new)

    def quantised(self) -> np.ndarray:
        """The images as stored: uint8 ``(N, 28, 28)``."""
        return np.round(np.clip(self.images, 0, 1) * 255).astype(np.uint8)

    def counts(self) -> np.ndarray:
        """Drawings of each digit, ``(10,)``."""
        return np.bincount(self.labels, minlength=10)


def save_collection(collection: Collection, path) -> Path:
    """Write a collection to ``path`` (``.npz``) atomically; returns the path."""
    path = Path(path).expanduser()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise CollectionError(f"{path}: cannot write here ({e.strerror or e})") from None
    with atomic_write(path, CollectionError) as fh:
        np.savez_compressed(fh, images=collection.quantised(), labels=collection.labels.astype(np.uint8),
                            format=np.array(FORMAT))
    return path


def load_collection(path) -> Collection:
    """Read a collection file; raises :class:`CollectionError` naming the file on any fault."""
    path = Path(path).expanduser()
    limit = MAX_DRAWINGS * (28 * 28 + 1) + 10_000

    def text(shape, dtype):
        return None if shape == () and dtype.kind == "U" else "is not text"

    def images(shape, dtype):
        if len(shape) != 3 or shape[1:] != (28, 28) or shape[0] > MAX_DRAWINGS:
            return f"has shape {shape}, expected (N, 28, 28) with N at most {MAX_DRAWINGS:,}"
        return None if dtype == np.uint8 else f"holds {dtype}, expected uint8"

    with NpzReader(path, CollectionError, limit=limit) as z:
        missing = [k for k in ("images", "labels", "format") if k not in z.files]
        if missing:
            raise CollectionError(f"{path}: not a Digitlab collection (missing {', '.join(missing)})")
        fmt = str(z.array("format", text, max_bytes=400)[()])
        if fmt != FORMAT:
            raise CollectionError(f"{path}: format {fmt!r} is not one this Digitlab reads ({FORMAT})")
        X = z.array("images", images, max_bytes=MAX_DRAWINGS * 784)
        y = z.array("labels", lambda s, d: None if s == (X.shape[0],) and d == np.uint8
                    else f"has shape {s} and type {d}, expected ({X.shape[0]},) uint8", max_bytes=MAX_DRAWINGS)
    if y.size and y.max() > 9:
        raise CollectionError(f"{path}: labels must be digits 0 to 9 (found {int(y.max())})")
    return Collection(X.astype(np.float32) / 255.0, y.astype(np.int64))
