"""The personal collection as a gallery: every drawing with its digit; remove, clear, export, import."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QListView, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget

from engine.collection import Collection, CollectionError, load_collection, save_collection

from .qimages import gray_qimage

__all__ = ["CollectionView", "thumbnail"]

_FILTER = "Digitlab collections (*.npz)"


def thumbnail(image28: np.ndarray, scale: int = 2) -> QPixmap:
    """A 28x28 drawing ``(28, 28)`` in [0, 1] as a pixmap ``scale`` times larger."""
    return QPixmap.fromImage(gray_qimage(np.kron(image28, np.ones((scale, scale)))))


class CollectionView(QWidget):
    """A gallery of the panel's collection (``panel.collection``), with Remove, Clear, Export
    and Import. Emits ``changed`` after every edit (the panel saves it)."""

    changed = Signal()

    def __init__(self, panel):
        super().__init__(panel)
        self.panel = panel
        self.collection = Collection()
        self.gallery = QListWidget()
        self.gallery.setViewMode(QListView.IconMode)
        self.gallery.setIconSize(QSize(56, 56))
        self.gallery.setResizeMode(QListView.Adjust)
        self.gallery.setSelectionMode(QListWidget.ExtendedSelection)
        self.gallery.setToolTip("Your drawings and the digit each one is; select some and press Remove")
        self.remove_button = QPushButton("Remove")
        self.clear_button = QPushButton("Clear all")
        self.export_button = QPushButton("Export…")
        self.import_button = QPushButton("Import…")
        self.remove_button.clicked.connect(self.remove_selected)
        self.clear_button.clicked.connect(self.clear_all)
        self.export_button.clicked.connect(self.export)
        self.import_button.clicked.connect(self.import_)
        row = QHBoxLayout()
        for b in (self.remove_button, self.clear_button, self.export_button, self.import_button):
            row.addWidget(b)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.gallery, 1)
        lay.addLayout(row)

    def set_collection(self, collection: Collection) -> None:
        self.collection = collection
        self.gallery.clear()
        for i, (img, d) in enumerate(zip(collection.images, collection.labels)):
            item = QListWidgetItem(QIcon(thumbnail(img)), str(int(d)))
            item.setData(Qt.UserRole, i)
            self.gallery.addItem(item)

    def remove_selected(self) -> int:
        rows = sorted(it.data(Qt.UserRole) for it in self.gallery.selectedItems())
        if rows:
            self.collection.remove(rows)
            self.set_collection(self.collection)
            self.changed.emit()
        return len(rows)

    def clear_all(self) -> bool:
        if not len(self.collection) or not self.panel.prompts.confirm(
                "Clear the collection", f"Remove all {len(self.collection)} drawings of your collection?"):
            return False
        self.collection.remove(range(len(self.collection)))
        self.set_collection(self.collection)
        self.changed.emit()
        return True

    def export(self) -> bool:
        path = self.panel.prompts.save_file("Export the collection", str(self.panel.path.parent), _FILTER)
        if not path:
            return False
        try:
            save_collection(self.collection, path)
        except CollectionError as e:
            self.panel.prompts.error("Export", str(e))
            return False
        return True

    def import_(self) -> int:
        path = self.panel.prompts.open_file("Import drawings", str(self.panel.path.parent), _FILTER)
        if not path:
            return 0
        try:
            other = load_collection(path)
        except CollectionError as e:
            self.panel.prompts.error("Import", str(e))
            return 0
        added = self.collection.extend(other)
        self.set_collection(self.collection)
        self.changed.emit()
        return added
