"""The personal collection as a gallery: every drawing with its digit; relabel, remove, clear,
export and import (a collection ``.npz`` or a pen recording in the UNIPEN dialect).

The gallery is a list model that draws a thumbnail only when it is shown, so a collection of
:data:`engine.handwriting.collection.MAX_DRAWINGS` drawings opens at once; a file to import is read (and a
pen recording rendered) off the GUI thread, and the limit is stated before it bites.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QAbstractListModel, QModelIndex, QPointF, QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QListView, QPushButton, QVBoxLayout, QWidget,
                               QAbstractItemView)

from engine.handwriting import collection as collection_file
from engine.handwriting.collection import Collection, CollectionError, save_collection

from ..reading.canvas import Stroke
from ..reading.qimages import gray_qimage
from ..threads.jobs import GeneratorJob
from ..train.words import counted
from .job import ImportFailed, ImportRead, import_job, is_pen_file

__all__ = ["CollectionView", "CollectionModel", "thumbnail"]

_FILTER = "Digitlab collections (*.npz)"
_PEN_FILTER = "Pen recordings, UNIPEN (*.unipen *.unipen.gz *.txt)"
_ALL_FILTER = f"Collections and pen recordings (*.npz *.unipen *.unipen.gz *.txt);;{_FILTER};;{_PEN_FILTER}"


def thumbnail(image28: np.ndarray, scale: int = 2) -> QPixmap:
    """A 28x28 drawing ``(28, 28)`` in [0, 1] as a pixmap ``scale`` times larger."""
    return QPixmap.fromImage(gray_qimage(np.kron(image28, np.ones((scale, scale)))))


class CollectionModel(QAbstractListModel):
    """The collection's drawings as list items: the digit as text, the thumbnail as icon
    (made when Qt first shows it, at most :attr:`CACHE` kept)."""

    CACHE = 4_000

    def __init__(self, parent=None):
        super().__init__(parent)
        self.collection = Collection()
        self._icons: dict[int, QIcon] = {}

    def set_collection(self, collection: Collection) -> None:
        self.beginResetModel()
        self.collection = collection
        self._icons.clear()
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:      # noqa: N802 - Qt's name
        return 0 if parent.isValid() else len(self.collection)

    def data(self, index, role=Qt.DisplayRole):
        r = index.row()
        if not index.isValid() or r >= len(self.collection):
            return None
        if role == Qt.DisplayRole:
            return str(int(self.collection.labels[r]))
        if role == Qt.DecorationRole:
            icon = self._icons.get(r)
            if icon is None:
                if len(self._icons) >= self.CACHE:
                    self._icons.clear()
                icon = self._icons[r] = QIcon(thumbnail(self.collection.images[r]))
            return icon
        if role == Qt.ToolTipRole:
            pen = "with its strokes" if self.collection.strokes[r] else "an image only (no strokes kept)"
            return f"a {int(self.collection.labels[r])}, {pen}; double-click to put it on the canvas"
        return None


class CollectionView(QWidget):
    """A gallery of the panel's collection (``panel.collection``), with Relabel, Remove, Clear,
    Export and Import. Emits ``changed`` after every edit (the panel saves it) and
    ``showDrawing(list)`` with a drawing's strokes (canvas :class:`app.reading.canvas.Stroke`) on a
    double-click."""

    changed = Signal()
    showDrawing = Signal(list)
    imported = Signal(int)             # an import ended (its thread too): how many drawings joined

    def __init__(self, panel):
        super().__init__(panel)
        self.panel = panel
        self.collection = Collection()
        self.model = CollectionModel(self)
        self.gallery = QListView()
        self.gallery.setModel(self.model)
        self.gallery.setViewMode(QListView.IconMode)
        self.gallery.setIconSize(QSize(56, 56))
        self.gallery.setGridSize(QSize(66, 80))
        self.gallery.setUniformItemSizes(True)
        self.gallery.setLayoutMode(QListView.Batched)
        self.gallery.setResizeMode(QListView.Adjust)
        self.gallery.setMovement(QListView.Static)
        self.gallery.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.gallery.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.gallery.setToolTip("Your drawings and the digit each one is; select some to relabel or remove them")
        self.gallery.doubleClicked.connect(lambda index: self.show_drawing(index.row()))
        self.count_label = QLabel("")
        self.count_label.setWordWrap(True)
        self.relabel_box = QComboBox()
        self.relabel_box.addItems(["Relabel as…"] + [str(d) for d in range(10)])
        self.relabel_box.setToolTip("Make the selected drawings this digit")
        self.relabel_box.activated.connect(self._relabel_chosen)
        self.remove_button = QPushButton("Remove")
        self.clear_button = QPushButton("Clear all")
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Save the collection (.npz), or its drawings' strokes as a pen recording "
                                      "(UNIPEN) to share or re-render")
        self.import_button = QPushButton("Import…")
        self.import_button.setToolTip(f"Add drawings from a collection (.npz) or a pen recording (UNIPEN); a "
                                      f"collection holds at most {collection_file.MAX_DRAWINGS:,}")
        self.remove_button.clicked.connect(self.remove_selected)
        self.clear_button.clicked.connect(self.clear_all)
        self.export_button.clicked.connect(self.export)
        self.import_button.clicked.connect(self.import_)
        self._added = 0
        self.importer = GeneratorJob(parent=self)
        self.importer.yielded.connect(self._on_import)
        self.importer.errored.connect(lambda text: self.panel.prompts.error("Import", text))
        self.importer.finished.connect(self._import_finished)
        row = QHBoxLayout()
        for b in (self.relabel_box, self.remove_button, self.clear_button, self.export_button, self.import_button):
            row.addWidget(b)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.gallery, 1)
        lay.addWidget(self.count_label)
        lay.addLayout(row)

    # -- showing ----------------------------------------------------------------------------
    def set_collection(self, collection: Collection) -> None:
        self.collection = collection
        self.model.set_collection(collection)
        self.update_count()

    def update_count(self, note: str = "") -> None:
        n = len(self.collection)
        limit = collection_file.MAX_DRAWINGS
        self.count_label.setText(f"{n:,} drawing{'s' * (n != 1)} (a collection holds at most {limit:,})"
                                 + (f" — {note}" if note else ""))

    def count(self) -> int:
        """Drawings shown."""
        return self.model.rowCount()

    def select(self, rows) -> None:
        """Select the drawings at ``rows`` (only them)."""
        sel = self.gallery.selectionModel()
        sel.clearSelection()
        for r in rows:
            sel.select(self.model.index(int(r)), sel.SelectionFlag.Select)

    def selected_rows(self) -> list[int]:
        return sorted(i.row() for i in self.gallery.selectionModel().selectedIndexes())

    def show_drawing(self, row: int) -> bool:
        """Put drawing ``row``'s strokes on the canvas (False: only its image was kept)."""
        strokes = self.collection.strokes[row]
        if not strokes:
            self.panel.statusMessage.emit("this drawing was kept as an image only: no strokes to show")
            return False
        self.showDrawing.emit([Stroke([QPointF(float(x), float(y)) for x, y in s.points], s.width, s.erase)
                               for s in strokes])
        return True

    # -- editing ----------------------------------------------------------------------------
    def _relabel_chosen(self, index: int) -> None:
        if index > 0:
            self.relabel_selected(index - 1)
        self.relabel_box.setCurrentIndex(0)

    def relabel_selected(self, digit: int) -> int:
        """Make the selected drawings the digit ``digit``; returns how many changed."""
        rows = self.selected_rows()
        if not rows:
            self.panel.statusMessage.emit("Select the drawings to relabel first")
            return 0
        changed = self.collection.relabel(rows, digit)
        self.set_collection(self.collection)
        self.select(rows)
        self.changed.emit()
        self.panel.statusMessage.emit(f"{len(rows)} drawing{'s' * (len(rows) != 1)} now a {digit}")
        return changed

    def remove_selected(self) -> int:
        rows = self.selected_rows()
        if rows:
            self.collection.remove(rows)
            self.set_collection(self.collection)
            self.changed.emit()
        return len(rows)

    def clear_all(self) -> bool:
        if not len(self.collection) or not self.panel.prompts.confirm(
                "Clear the collection", f"Remove all {counted(len(self.collection), 'drawing')} of your collection?"):
            return False
        self.collection.remove(range(len(self.collection)))
        self.set_collection(self.collection)
        self.changed.emit()
        return True

    # -- files --------------------------------------------------------------------------------
    def export(self) -> bool:
        """Save the collection as a ``.npz``, or (a name ending ``.unipen`` or ``.unipen.gz``) the
        strokes of its drawings that have them as a UNIPEN pen recording."""
        path = self.panel.prompts.save_file("Export the collection", str(self.panel.path.parent),
                                            f"{_FILTER};;{_PEN_FILTER}")
        if not path:
            return False
        try:
            if is_pen_file(path):
                from engine.handwriting.collection_pen import export_pen
                written, left = export_pen(self.collection, path)
                self.panel.statusMessage.emit(
                    f"{counted(written, 'drawing')} written as pen strokes to {path}"
                    + (f"; {left} kept as images only (or drawn with the eraser) are not in it" if left else ""))
            else:
                save_collection(self.collection, path)
        except (CollectionError, ValueError, OSError) as e:
            self.panel.prompts.error("Export", str(e))
            return False
        return True

    def import_(self, path: str | None = None) -> bool:
        """Read a collection or pen recording off the GUI thread; the drawings join when it is
        read (:attr:`imported` tells how many). False: nothing started (no file, or no room)."""
        if self.importer.is_running():
            self.panel.statusMessage.emit("An import is still being read")
            return False
        if not self.collection.room():
            self.panel.prompts.error("Import", f"Your collection is full ({collection_file.MAX_DRAWINGS:,} "
                                     "drawings, the most it may hold). Remove some before importing.")
            return False
        path = path or self.panel.prompts.open_file("Import drawings", str(self.panel.path.parent), _ALL_FILTER)
        if not path:
            return False
        self.import_button.setEnabled(False)
        self.update_count(f"reading {path}…")
        self._added = 0
        self.importer.start(import_job(path, self.collection.snapshot()))
        return True

    def _on_import(self, ev) -> None:
        if isinstance(ev, ImportFailed):
            self.panel.prompts.error("Import", ev.message)
            self.update_count("nothing imported")
            return
        if not isinstance(ev, ImportRead):
            return
        new, room = ev.new, self.collection.room()
        if len(new) > room:
            if not room or not self.panel.prompts.confirm(
                    "Import", f"{ev.path} holds {len(new):,} drawings your collection does not have, but a "
                    f"collection holds at most {collection_file.MAX_DRAWINGS:,} and yours has "
                    f"{len(self.collection):,}.\n"
                    f"Import only the first {room:,}?"):
                self.update_count("nothing imported")
                return
        added = self.collection.extend(ev.other, new)
        self.set_collection(self.collection)
        if added:
            self.changed.emit()
        note = f"{added:,} imported" + (f", {ev.skipped:,} samples that are not digits left out" if ev.skipped
                                        else "")
        self.update_count(note)
        self.panel.statusMessage.emit(note)
        self._added = added

    def _import_finished(self) -> None:
        self.import_button.setEnabled(True)
        if "reading " in self.count_label.text():      # it failed or was stopped: nothing came
            self.update_count()
        added, self._added = self._added, 0
        self.imported.emit(added)

    def shutdown(self, timeout: float) -> bool:
        return self.importer.close(timeout)
