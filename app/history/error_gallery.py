"""The errors behind the numbers: the test images of one confusion-matrix cell.

Clicking a cell of the Train tab's confusion matrix opens :class:`ErrorGallery` on the
test images of that cell (true *i*, read as *j*), the most confident first; clicking one
puts it on the canvas, where every view explains it and the user can draw over it.
*Where does it fail?* (Edit menu) opens the same gallery for the model that reads the
drawing, on the last run's test set, else on the bundled sample's 1,000 test digits.
The gallery opens at once, saying that it reads the test digits; the model reads them
off the GUI thread (:class:`app.threads.jobs.FunctionPool`) and the gallery fills when
the probabilities arrive.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shiboken6
from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (QComboBox, QDialog, QLabel, QListWidget, QListWidgetItem,
                               QVBoxLayout)

from engine.net.evaluate import confusion_matrix

from ..reading.qimages import gray_qimage
from ..threads.jobs import FunctionPool

__all__ = ["TestSet", "predictions", "sample_test_set", "misread", "ErrorGallery", "GalleryWiring"]

MAX_SHOWN = 300
SAMPLE = "the bundled sample"      # the test set when no run has ended: read with the model


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


def sample_test_set(model) -> TestSet:
    """The bundled sample's 1,000 test digits, normalised as ``model`` reads them."""
    from engine.files.data import load_sample
    ds = load_sample()
    return TestSet(model.norm.apply(ds.test_images, model.dtype), ds.test_labels.astype(np.int64),
                   ds.test_images.astype(np.float32) / 255, True, "The bundled sample's test digits")


@dataclass
class _Read:
    """What a read of a test set gave (made off the GUI thread)."""

    model: object
    source: object              # the TestSet asked for, or SAMPLE
    test: TestSet | None
    proba: np.ndarray | None    # (N, 10)
    error: str = ""


def _read(predict, model, source) -> _Read:
    """Read ``source`` (a TestSet, or SAMPLE) with ``model``: runs off the GUI thread."""
    test = None
    try:
        test = source if isinstance(source, TestSet) else sample_test_set(model)
        return _Read(model, source, test, np.asarray(predict(model, test), np.float64))
    except Exception as e:   # noqa: BLE001 - shown in the gallery, never lost
        return _Read(model, source, test, None, f"{type(e).__name__}: {e}")


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

    The gallery opens empty, saying what it reads (``reading``), and fills when
    :meth:`set_result` gives it the probabilities; :meth:`set_failed` says why it cannot.

    Parameters
    ----------
    model : engine.net.model.Model
    source : TestSet or str
        The test set asked for (``SAMPLE``: the bundled sample's, made when read).
    parent : QWidget, optional
    proba : ndarray, (N, 10), optional
        The model's probabilities on ``source`` (a TestSet) if already read.

    Signals
    -------
    imageChosen(object)
        The clicked image, ``(28, 28)`` float32 in [0, 1].
    """

    imageChosen = Signal(object)

    def __init__(self, model, source, parent=None, proba=None):
        super().__init__(parent)
        self.setWindowTitle("Where does it fail?")
        self.model, self.source = model, source
        self.test: TestSet | None = source if isinstance(source, TestSet) else None
        self.proba: np.ndarray | None = None
        self.confusion: np.ndarray | None = None
        self.error = ""
        self.cells: list[tuple[int, int]] = []
        self._asked: tuple[int, int] | None = None     # a cell asked for before the reading
        self.shown: np.ndarray = np.zeros(0, np.int64)
        lay = QVBoxLayout(self)
        self.cell_box = QComboBox()
        self.cell_box.setEnabled(False)
        self.cell_box.currentIndexChanged.connect(self._cell_chosen)
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
        what = (f"the {len(self.test.labels):,} test digits ({self.test.description})"
                if self.test is not None else f"{source}'s test digits")
        self.reading = f"Reading {what} with {getattr(model, 'name', None) or 'the model'}…"
        self.note.setText(self.reading)
        if proba is not None:
            self.set_result(self.test, proba)

    def is_ready(self) -> bool:
        """Whether the probabilities have arrived (the cells can be shown)."""
        return self.proba is not None

    def set_result(self, test: TestSet, proba: np.ndarray) -> None:
        """Fill the gallery: ``proba`` ``(N, 10)`` the model's probabilities on ``test``."""
        self.test, self.proba = test, np.asarray(proba, np.float64)
        self.confusion = confusion_matrix(test.labels, self.proba.argmax(axis=1))
        self.cells = [(int(i), int(j)) for i, j in         # (only the cells that hold images)
                      sorted(((i, j) for i in range(10) for j in range(10) if self.confusion[i, j]),
                             key=lambda c: (c[0] == c[1], -self.confusion[c]))]
        self.cell_box.blockSignals(True)
        for i, j in self.cells:
            self.cell_box.addItem(self._cell_text(i, j))
        self.cell_box.blockSignals(False)
        self.cell_box.setEnabled(True)
        self.show_cell(*(self._asked or self.cells[0]))

    def _cell_text(self, i: int, j: int) -> str:
        n = int(self.confusion[i, j])
        return f"true {i}, read as {j}: {n} image{'' if n == 1 else 's'}"

    def set_failed(self, message: str) -> None:
        """Say that the test digits could not be read, and why."""
        self.error = message
        self.note.setText(f"{self.reading[:-1]} failed: {message}")

    def show_cell(self, true: int, read: int) -> None:
        """Show the images of label ``true`` read as ``read`` (once read, if still reading)."""
        if not self.is_ready():
            self._asked = (int(true), int(read))
            return
        self.cell_box.blockSignals(True)
        if (int(true), int(read)) not in self.cells:       # an empty cell clicked: listed while shown
            self.cells.append((int(true), int(read)))
            self.cell_box.addItem(self._cell_text(int(true), int(read)))
        self.cell_box.setCurrentIndex(self.cells.index((int(true), int(read))))
        self.cell_box.blockSignals(False)
        self._fill(int(true), int(read))

    def cell(self) -> tuple[int, int] | None:
        """The cell shown (the one asked for while reading; None: none yet)."""
        return self.cells[self.cell_box.currentIndex()] if self.is_ready() else self._asked

    def _cell_chosen(self, k: int) -> None:
        if 0 <= k < len(self.cells):
            self._fill(*self.cells[k])

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
        self.note.setText(f"{len(idx)} test image{'' if len(idx) == 1 else 's'} of a {true} read as {read}"
                          f"{more}, most confident first. {self.test.description}. Click one to put it "
                          "on the canvas.")

    def choose(self, row: int) -> None:
        """Put the ``row``-th image shown on the canvas (as a click does)."""
        self.imageChosen.emit(np.array(self.test.image01(self.shown[row]), np.float32))

    def _clicked(self, item: QListWidgetItem) -> None:
        self.choose(self.grid.row(item))


class GalleryWiring(QObject):
    """Ties the gallery to the window: confusion-matrix clicks, the menu entry, the canvas.

    The test set is read off the GUI thread on :attr:`runner`'s channel ``"read"``; a
    result for a gallery no longer on show (another model or test set) is dropped.

    Attributes
    ----------
    predict : callable
        ``predict(model, test) -> (N, 10)`` probabilities (:func:`predictions`), run off
        the GUI thread.
    """

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.run_test: TestSet | None = None
        self.gallery: ErrorGallery | None = None
        self.predict = predictions
        self.runner = FunctionPool(self, threads=1)
        self.runner.returned.connect(self._read_done)
        self.runner.errored.connect(self._read_failed)
        window.training_panel.runEnded.connect(self._event)
        plot = window.training_panel.plots.confusion_plot
        plot.scene().sigMouseClicked.connect(self._confusion_clicked)

    def _event(self, ev) -> None:
        if ev.data is not None and ev.model is not None:
            d = ev.data
            self.run_test = TestSet.from_normalised(
                d.Xte, d.yte, pooled_tanh=ev.model.record.mode != "article",
                description=f"Test set of the last run ({d.description})")

    def open(self, cell: tuple[int, int] | None = None) -> ErrorGallery:
        """Open the gallery for the model that reads the drawing (at ``cell``, if given):
        at once, the test set being read off the GUI thread. The gallery already open for
        the same model and test set shows the cell: the whole test set is read again only
        when one of them changed (or the last reading failed)."""
        model = self.window.view_model()
        source = self.run_test if self.run_test is not None else SAMPLE
        g = self.gallery if self.gallery is not None and shiboken6.isValid(self.gallery) else None
        if g is None or g.model is not model or g.source is not source or g.error:
            if g is not None:
                g.close()
                g.deleteLater()
            g = self.gallery = ErrorGallery(model, source, self.window)
            g.imageChosen.connect(self.put_on_canvas)
            self.runner.submit("read", _read, self.predict, model, source)
        if cell is not None:
            g.show_cell(*cell)
        g.show()
        g.raise_()
        return g

    def reading(self) -> bool:
        """Whether a test set is being read."""
        return self.runner.busy()

    def shutdown(self, msecs: int = -1) -> bool:
        """Wait for the reading under way to end (call before the window is deleted)."""
        return self.runner.wait(msecs)

    def _current(self) -> ErrorGallery | None:
        g = self.gallery
        return g if g is not None and shiboken6.isValid(g) else None

    def _read_done(self, _channel: str, out: _Read) -> None:
        g = self._current()
        if g is None or g.model is not out.model or g.source is not out.source or g.is_ready():
            return                                  # an older model's or test set's: dropped
        if out.error:
            g.set_failed(out.error)
        else:
            g.set_result(out.test, out.proba)

    def _read_failed(self, _channel: str, message: str) -> None:
        g = self._current()                         # (_read reports its own errors)
        if g is not None and not g.is_ready():
            g.set_failed(message)

    def put_on_canvas(self, image01: np.ndarray) -> None:
        """Put a test image on the canvas, read as it is (the 28x28 image the gallery read,
        not preprocessed again, no "not a digit" verdict: it is a test digit), so that it
        reads as in the gallery; once drawn on, it is read as a drawing."""
        w = self.window
        w.reader.put_exact(image01)
        w.statusBar().showMessage("A test image, read as the gallery read it (28x28, not preprocessed "
                                  "again); draw on it and it is read as a drawing", 10000)

    def _confusion_clicked(self, ev) -> None:
        plots = self.window.training_panel.plots
        if plots.confusion is None:
            return
        p = plots.confusion_plot.getPlotItem().vb.mapSceneToView(ev.scenePos())
        col, row = int(np.floor(p.x())), int(np.floor(p.y()))
        if 0 <= row < 10 and 0 <= col < 10:
            self.open((row, col))
