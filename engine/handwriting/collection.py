"""The personal collection: a user's own drawings with the digit each one is, and their strokes.

One ``.npz`` file holds ``images`` ``(N, 28, 28)`` uint8 (0-255, white on black, as
:func:`engine.net.preprocess.to_mnist` makes them, times 255), ``labels`` ``(N,)`` uint8 (0-9),
``format`` (``"digitlab-collection 2"``) and the pen strokes each drawing was made of, flat:
``points`` ``(P, 2)`` float32 (canvas pixels, y down), ``stroke_points`` ``(S,)`` (points of
each stroke), ``stroke_width`` ``(S,)`` float32, ``stroke_erase`` ``(S,)`` uint8 (1: the
eraser) and ``drawing_strokes`` ``(N,)`` (strokes of each drawing; 0 for a drawing known only
as an image). Files of format 1 (images and labels only) still load, with no strokes.

It is written atomically (:mod:`engine.files.safefile`); a damaged or foreign file is refused with
a message naming it, and nothing of the current collection is lost. A collection holds at
most :data:`MAX_DRAWINGS` drawings: :meth:`Collection.add` and :meth:`Collection.extend`
never pass it (callers say so before, see :meth:`Collection.room`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..files.safefile import FileFault, NpzReader, atomic_write

__all__ = ["CollectionError", "Collection", "InkStroke", "load_collection", "save_collection", "FORMAT",
           "MAX_DRAWINGS", "MAX_POINTS"]

FORMAT = "digitlab-collection 2"
_READS = ("digitlab-collection 1", FORMAT)
#: The most drawings a collection (and its file) may hold.
MAX_DRAWINGS = 100_000
#: The most stroke points a collection file may hold (strokes past it are not kept).
MAX_POINTS = 20_000_000
#: The most points one drawing's strokes may have (more: the drawing is kept without strokes).
MAX_POINTS_PER_DRAWING = 20_000


class CollectionError(FileFault):
    """A collection file that cannot be read or written (the message names it)."""


@dataclass(frozen=True)
class InkStroke:
    """One pen stroke of a drawing.

    Attributes
    ----------
    points : ndarray of float64, (n, 2)
        x, y in canvas pixels (y grows downwards), in the order drawn.
    width : float
        The brush width, in canvas pixels.
    erase : bool
        The stroke erased (the canvas's right button or a pen's eraser end).
    """

    points: np.ndarray
    width: float = 24.0
    erase: bool = False


def _strokes_of(strokes) -> tuple:
    """Strokes given as InkStroke, ``(n, 2)`` arrays or objects with ``points``/``width``/``erase``
    (the canvas's :class:`app.reading.canvas.Stroke`, whose points may be QPointF) as a tuple of InkStroke."""
    out = []
    for s in strokes or ():
        if isinstance(s, InkStroke):
            out.append(s)
            continue
        pts = getattr(s, "points", s)
        if len(pts) and hasattr(pts[0], "x") and callable(pts[0].x):
            pts = [(p.x(), p.y()) for p in pts]
        arr = np.asarray(pts, np.float64).reshape(-1, 2)
        if len(arr) and np.all(np.isfinite(arr)):
            out.append(InkStroke(arr, float(getattr(s, "width", 24.0)), bool(getattr(s, "erase", False))))
    if sum(len(s.points) for s in out) > MAX_POINTS_PER_DRAWING:
        return ()
    return tuple(out)


@dataclass
class Collection:
    """Drawings, their digits and their strokes.

    Attributes
    ----------
    images : ndarray of float32, (N, 28, 28)
        In [0, 1].
    labels : ndarray of int64, (N,)
    strokes : list of tuple of InkStroke, length N
        The strokes each drawing was made of; an empty tuple where only the image is known.
    """

    images: np.ndarray = field(default_factory=lambda: np.zeros((0, 28, 28), np.float32))
    labels: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    strokes: list | None = None

    def __post_init__(self):
        self.images = np.asarray(self.images, np.float32).reshape(-1, 28, 28)
        self.labels = np.asarray(self.labels, np.int64).reshape(-1)
        if len(self.images) != len(self.labels):
            raise ValueError(f"{len(self.images)} drawings but {len(self.labels)} labels")
        if self.labels.size and (self.labels.min() < 0 or self.labels.max() > 9):
            raise ValueError("labels must be digits 0 to 9")
        self.strokes = [()] * len(self.labels) if self.strokes is None else [_strokes_of(s) for s in self.strokes]
        if len(self.strokes) != len(self.labels):
            raise ValueError(f"{len(self.labels)} drawings but strokes for {len(self.strokes)}")

    def __len__(self) -> int:
        return len(self.labels)

    def room(self) -> int:
        """How many more drawings the collection may take (:data:`MAX_DRAWINGS` in all)."""
        return max(0, MAX_DRAWINGS - len(self))

    def snapshot(self) -> "Collection":
        """A copy that later edits do not touch (the arrays are shared: edits replace them)."""
        c = Collection.__new__(Collection)
        c.images, c.labels, c.strokes = self.images, self.labels, list(self.strokes)
        return c

    def add(self, image: np.ndarray, label: int, strokes=()) -> None:
        """Add one drawing ``(28, 28)`` in [0, 1] with its digit and, optionally, its strokes
        (a list of :class:`InkStroke`, ``(n, 2)`` arrays or the canvas's strokes). Raises
        ValueError for a label that is not a digit or a full collection."""
        if not 0 <= int(label) <= 9:
            raise ValueError(f"a digit is 0 to 9, not {label!r}")
        if not self.room():
            raise ValueError(f"the collection is full ({MAX_DRAWINGS:,} drawings at most)")
        img = np.clip(np.asarray(image, np.float32), 0, 1).reshape(1, 28, 28)
        self.images = np.concatenate([self.images, img])
        self.labels = np.append(self.labels, int(label))
        self.strokes = self.strokes + [_strokes_of(strokes)]

    def remove(self, indices) -> None:
        """Drop the drawings at ``indices``."""
        keep = np.ones(len(self), bool)
        keep[np.asarray(list(indices), int)] = False
        self.images, self.labels = self.images[keep], self.labels[keep]
        self.strokes = [s for s, k in zip(self.strokes, keep) if k]

    def relabel(self, indices, label: int) -> int:
        """Make the drawings at ``indices`` the digit ``label``; returns how many changed."""
        if not 0 <= int(label) <= 9:
            raise ValueError(f"a digit is 0 to 9, not {label!r}")
        idx = np.asarray(list(indices), int)
        changed = int(np.count_nonzero(self.labels[idx] != int(label))) if idx.size else 0
        labels = self.labels.copy()
        labels[idx] = int(label)
        self.labels = labels
        return changed

    def new_in(self, other: "Collection") -> np.ndarray:
        """Indices of ``other``'s drawings this collection does not hold yet (same image and
        digit), each once, in order."""
        have = {(int(l), img.tobytes()) for img, l in zip(self.quantised(), self.labels)}
        new = []
        for i, (img, l) in enumerate(zip(other.quantised(), other.labels)):
            key = (int(l), img.tobytes())
            if key not in have:
                have.add(key)
                new.append(i)
        return np.asarray(new, int)

    def extend(self, other: "Collection", new: np.ndarray | None = None) -> int:
        """Add another collection's drawings that this one does not hold yet (or those at
        ``new``, from :meth:`new_in`), as many as there is room for; returns how many."""
        new = self.new_in(other) if new is None else np.asarray(new, int)
        new = new[:self.room()]
        if len(new):
            self.images = np.concatenate([self.images, other.images[new]])
            self.labels = np.concatenate([self.labels, other.labels[new]])
            self.strokes = self.strokes + [other.strokes[i] for i in new]
        return len(new)

    def quantised(self) -> np.ndarray:
        """The images as stored: uint8 ``(N, 28, 28)``."""
        return np.round(np.clip(self.images, 0, 1) * 255).astype(np.uint8)

    def counts(self) -> np.ndarray:
        """Drawings of each digit, ``(10,)``."""
        return np.bincount(self.labels, minlength=10)

    def has_strokes(self) -> np.ndarray:
        """Which drawings have their strokes, ``(N,)`` bool."""
        return np.array([bool(s) for s in self.strokes], bool)


def _flat_strokes(collection: Collection) -> dict:
    per = np.array([len(s) for s in collection.strokes], np.int32)
    flat = [s for ss in collection.strokes for s in ss]
    total = sum(len(s.points) for s in flat)
    if total > MAX_POINTS:                     # keep the images; the strokes of the last drawings go
        kept, acc = [], 0
        for i, ss in enumerate(collection.strokes):
            n = sum(len(s.points) for s in ss)
            if acc + n > MAX_POINTS:
                per[i:] = 0
                break
            acc += n
            kept.extend(ss)
        flat = kept
    pts = np.concatenate([s.points for s in flat]).astype(np.float32) if flat else np.zeros((0, 2), np.float32)
    return {"points": pts, "stroke_points": np.array([len(s.points) for s in flat], np.int32),
            "stroke_width": np.array([s.width for s in flat], np.float32),
            "stroke_erase": np.array([s.erase for s in flat], np.uint8), "drawing_strokes": per}


def save_collection(collection: Collection, path) -> Path:
    """Write a collection to ``path`` (``.npz``) atomically; returns the path. Refuses (with
    :class:`CollectionError`) a collection over :data:`MAX_DRAWINGS`, which no reader would take."""
    path = Path(path).expanduser()
    if len(collection) > MAX_DRAWINGS:
        raise CollectionError(f"{path}: {len(collection):,} drawings, more than the {MAX_DRAWINGS:,} "
                              "a collection may hold; not written")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise CollectionError(f"{path}: cannot write here ({e.strerror or e})") from None
    with atomic_write(path, CollectionError) as fh:
        np.savez_compressed(fh, images=collection.quantised(), labels=collection.labels.astype(np.uint8),
                            format=np.array(FORMAT), **_flat_strokes(collection))
    return path


def _read_strokes(z: NpzReader, path: Path, n: int) -> list:
    """The strokes of a format-2 file, checked for consistency (sizes before data)."""
    def vector(name, kinds, length=None):
        def check(s, d):
            if len(s) != 1 or d.kind not in kinds or (length is not None and s[0] != length):
                return f"has shape {s} and type {d}, expected ({'S' if length is None else length},)"
            return None
        return z.array(name, check, max_bytes=MAX_POINTS * 8)

    per = vector("drawing_strokes", "iu", n).astype(np.int64)
    sizes = vector("stroke_points", "iu").astype(np.int64)
    widths = vector("stroke_width", "f", len(sizes)).astype(np.float64)
    erase = vector("stroke_erase", "iub", len(sizes)).astype(bool)
    if per.size and per.min() < 0 or sizes.size and sizes.min() < 1 or per.sum() != len(sizes):
        raise CollectionError(f"{path}: the stroke counts do not add up")
    total = int(sizes.sum())
    pts = z.array("points", lambda s, d: None if s == (total, 2) and d.kind == "f"
                  else f"has shape {s}, expected ({total}, 2)", max_bytes=MAX_POINTS * 16).astype(np.float64)
    if not np.all(np.isfinite(pts)) or not np.all(np.isfinite(widths)) or np.any(widths <= 0):
        raise CollectionError(f"{path}: stroke points or widths that are not finite positive numbers")
    ends = np.cumsum(sizes)
    starts = ends - sizes
    flat = [InkStroke(pts[a:b], float(w), bool(e)) for a, b, w, e in zip(starts, ends, widths, erase)]
    bounds = np.concatenate([[0], np.cumsum(per)])
    return [tuple(flat[bounds[i]:bounds[i + 1]]) for i in range(n)]


def load_collection(path) -> Collection:
    """Read a collection file; raises :class:`CollectionError` naming the file on any fault."""
    path = Path(path).expanduser()
    limit = MAX_DRAWINGS * (28 * 28 + 1) + MAX_POINTS * 8 + 10_000

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
        if fmt not in _READS:
            raise CollectionError(f"{path}: format {fmt!r} is not one this Digitlab reads ({FORMAT})")
        X = z.array("images", images, max_bytes=MAX_DRAWINGS * 784)
        y = z.array("labels", lambda s, d: None if s == (X.shape[0],) and d == np.uint8
                    else f"has shape {s} and type {d}, expected ({X.shape[0]},) uint8", max_bytes=MAX_DRAWINGS)
        strokes = None
        if fmt == FORMAT:
            lacking = [k for k in ("points", "stroke_points", "stroke_width", "stroke_erase", "drawing_strokes")
                       if k not in z.files]
            if lacking:
                raise CollectionError(f"{path}: a collection of format 2 without {', '.join(lacking)}")
            strokes = _read_strokes(z, path, len(y))
    if y.size and y.max() > 9:
        raise CollectionError(f"{path}: labels must be digits 0 to 9 (found {int(y.max())})")
    return Collection(X.astype(np.float32) / 255.0, y.astype(np.int64), strokes)
