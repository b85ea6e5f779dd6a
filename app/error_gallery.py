"""The errors behind the numbers: the test images of one confusion-matrix cell.

Clicking a cell of the Train tab's confusion matrix opens :class:`ErrorGallery` on the
test images of that cell (true *i*, read as *j*), the most confident first; clicking one
puts it on the canvas, where every view explains it and the user can draw over it.
*Where does it fail?* (Edit menu) opens the same gallery for the model that reads the
drawing, on the last run's test set, else on the bundled sample's 1,000 test digits.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (QComboBox, QDialog, QLabel, QListWidget, QListWidgetItem,
                               QVBoxLayout)

from engine.evaluate import confusion_matrix

from .jobs import RunEnded
from .qimages import gray_qimage

__all__ = ["TestSet", "misread", "ErrorGallery", "GalleryWiring", "attach_gallery"]

MAX_SHOWN = 300


@dataclass
class TestSet:
    """Test images as the model reads them and as the canvas shows them.

    Attributes
    ----------
    X : ndarray, (N, 28, 28)
        The network's input (normalised).
    labels : ndarray of int64, (N,)
    images01 : ndarray of float32, (N, 28, 28), or None
        The same digits in [0, 1] (white ink on black), for display and the canvas; None:
        each is rescaled from ``X`` when it is shown.
    pooled_tanh : bool
        How the model is tested on ``X`` (the article's test leaves the tanh out).
    description : str
    """

    __test__ = False  # not a pytest test class

    X: np.ndarray
    labels: np.ndarray
    images01: np.ndarray | None
    pooled_tanh: bool = True
    description: str = ""

    @classmethod
    def from_normalised(cls, X, labels, pooled_tanh=True, description="") -> "TestSet":
        """From normalised images only: each image is rescaled to [0, 1] when it is shown
        (the normalisation is affine, so this gives back the pixels up to their range)."""
        return cls(np.asarray(X), np.asarray(labels, np.int64), None, pooled_tanh, description)

    def image01(self, k: int) -> np.ndarray:
        """Image ``k`` ``(28, 28)`` float32 in [0, 1], for display."""
        if self.images01 is not None:
            return self.images01[k]
        x = self.X[k]
        lo, hi = float(x.min()), float(x.max())
        return ((x - lo) / max(hi - lo, 1e-12)).astype(np.float32)


def predictions(model, test: TestSet, batch: int = 500) -> np.ndarray:
    """The model's probabilities ``(N, 10)`` on the test set."""
    out = [model.forward(test.X[i:i + batch], pooled_tanh=test.pooled_tanh, maps=False).proba
           for i in range(0, len(test.X), batch)]
    return np.concatenate(out).astype(np.float64) if out else np.zeros((0, 10))


def misread(proba: np.ndarray, labels: np.ndarray, true: int, read: int) -> np.ndarray:
    """Indices of the images of label ``true`` read as ``read``, most confident first.

    Parameters
    ----------
    proba : ndarray, (N, 10)
    labels : ndarray of int, (N,)

    Returns
    -------
    ndarray of int, (M,)
    """
    idx = np.flatnonzero((labels == true) & (proba.argmax(axis=1) == read))
    return idx[np.argsort(-proba[idx, read], kind="stable")]


def _icon(image01: np.ndarray, side: int = 56) -> QIcon:
    img = gray_qimage(image01).scaled(side, side, Qt.KeepAspectRatio, Qt.FastTransformation)
    return QIcon(QPixmap.fromImage(img))


class ErrorGallery(QDialog):
    """The test images of one cell, most confident first; a combo box picks the cell.

    Signals
    -------
    imageChosen(object)
        The clicked image, ``(28, 28)`` float32 in [0, 1].
    """

    imageChosen = Signal(object)

    def __init__(self, model, test: TestSet, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Where does it fail?")
        self.model, self.test = model, test
        self.proba = predictions(model, test)
        self.confusion = confusion_matrix(test.labels, self.proba.argmax(axis=1))
        self.shown: np.ndarray = np.zeros(0, np.int64)
        lay = QVBoxLayout(self)
        self.cell_box = QComboBox()
        self.cells = [(int(i), int(j)) for i, j in
                      sorted(((i, j) for i in range(10) for j in range(10)),
                             key=lambda c: (c[0] == c[1], -self.confusion[c]))]
        for i, j in self.cells:
            self.cell_box.addItem(f"true {i}, read as {j}: {self.confusion[i, j]} images")
        self.cell_box.currentIndexChanged.connect(lambda k: self._fill(*self.cells[k]))
        lay.addWidget(self.cell_box)
        self.note = QLabel()
        self.note.setWordWrap(True)
        lay.addWidget(self.note)
        self.grid = QListWidget()
        self.grid.setViewMode(QListWidget.IconMode)
        self.grid.setIconSize(QSize(56, 56))
        self.grid.setResizeMode(QListWidget.Adjust)
        self.grid.setMovement(QListWidget.Static)
        self.grid.itemClicked.connect(self._clicked)
        lay.addWidget(self.grid, 1)
        self.resize(560, 480)
        self._fill(*self.cells[0])

    def show_cell(self, true: int, read: int) -> None:
        """Show the images of label ``true`` read as ``read``."""
        self.cell_box.setCurrentIndex(self.cells.index((int(true), int(read))))
        self._fill(int(true), int(read))

    def cell(self) -> tuple[int, int]:
        return self.cells[self.cell_box.currentIndex()]

    def _fill(self, true: int, read: int) -> None:
        idx = misread(self.proba, self.test.labels, true, read)
        self.shown = idx[:MAX_SHOWN]
        self.grid.clear()
        for k in self.shown:
            item = QListWidgetItem(_icon(self.test.image01(k)), f"{100 * self.proba[k, read]:.0f}%")
            item.setToolTip(f"test image #{k}: true {true}, read as {read} with "
                            f"{100 * self.proba[k, read]:.1f}%. Click: put it on the canvas")
            self.grid.addItem(item)
        more = f" (the first {MAX_SHOWN} shown)" if len(idx) > MAX_SHOWN else ""
        self.note.setText(f"{len(idx)} test images of a {true} read as {read}{more}, most confident "
                          f"first. {self.test.description}. Click one to put it on the canvas.")

    def choose(self, row: int) -> None:
        """Put the ``row``-th image shown on the canvas (as a click does)."""
        self.imageChosen.emit(np.array(self.test.image01(self.shown[row]), np.float32))

    def _clicked(self, item: QListWidgetItem) -> None:
        self.choose(self.grid.row(item))


class GalleryWiring(QObject):
    """Ties the gallery to the window: confusion-matrix clicks, the menu entry, the canvas."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.run_test: TestSet | None = None
        self.gallery: ErrorGallery | None = None
        self._sample: tuple | None = None          # (model, its TestSet of the bundled sample)
        window.training_panel.eventShown.connect(self._event)
        plot = window.training_panel.plots.confusion_plot
        plot.scene().sigMouseClicked.connect(self._confusion_clicked)

    def _event(self, ev) -> None:
        if isinstance(ev, RunEnded) and ev.data is not None and ev.model is not None:
            d = ev.data
            self.run_test = TestSet.from_normalised(
                d.Xte, d.yte, pooled_tanh=ev.model.record.mode != "article",
                description=f"Test set of the last run ({d.description})")

    def test_set(self, model) -> TestSet:
        """The last run's test set, else the bundled sample's test digits (made once for
        each model)."""
        if self.run_test is not None:
            return self.run_test
        if self._sample is None or self._sample[0] is not model:
            from engine.data import load_sample
            ds = load_sample()
            images01 = ds.test_images.astype(np.float32) / 255
            self._sample = (model, TestSet(model.norm.apply(ds.test_images, model.dtype),
                                           ds.test_labels.astype(np.int64), images01, True,
                                           "The bundled sample's test digits"))
        return self._sample[1]

    def open(self, cell: tuple[int, int] | None = None) -> ErrorGallery:
        """Open the gallery for the model that reads the drawing (at ``cell``, if given).
        The gallery already open for the same model and test set shows the cell: the
        whole test set is read again only when one of them changed."""
        model = self.window.view_model()
        test, g = self.test_set(model), self.gallery
        if g is None or g.model is not model or g.test is not test:
            if g is not None:
                g.close()
            g = self.gallery = ErrorGallery(model, test, self.window)
            g.imageChosen.connect(self.put_on_canvas)
        if cell is not None:
            g.show_cell(*cell)
        g.show()
        g.raise_()
        return g

    def put_on_canvas(self, image01: np.ndarray) -> None:
        self.window.canvas.set_image(image01)
        self.window.classify_now()

    def _confusion_clicked(self, ev) -> None:
        plots = self.window.training_panel.plots
        if plots.confusion is None:
            return
        p = plots.confusion_plot.getPlotItem().vb.mapSceneToView(ev.scenePos())
        col, row = int(np.floor(p.x())), int(np.floor(p.y()))
        if 0 <= row < 10 and 0 <= col < 10:
            self.open((row, col))


def attach_gallery(window) -> GalleryWiring:
    """Wire the gallery into ``window`` (a :class:`app.main_window.MainWindow`)."""
    wiring = GalleryWiring(window)
    window.gallery_wiring = wiring
    return wiring
