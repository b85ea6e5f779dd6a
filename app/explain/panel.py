"""Why did it read that? A panel of explanations of the net's reading of the drawing.

Four tabs: **Why** (an attribution map over the input, also sent as an overlay for the
canvas, for the reading or any class picked: "why not 7?"), **Robustness** (the reading
under shifts, rotations, scales and stroke widths, with MNIST preprocessing on and off),
**Break it** (kernels and hidden units switched off, weight noise, rounding; the reading
and a quick test accuracy; kernels ranked by the accuracy lost without each) and **Looks
like** (the nearest training images in the hidden layer and a PCA map of it).

Public API: ``ExplainPanel(parent=None, data=None)``, :meth:`ExplainPanel.set_model`,
:meth:`ExplainPanel.set_drawing` and the signals listed on the class. Every computation
runs on worker threads (:class:`app.threads.jobs.FunctionPool`), newest drawing first.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QHeaderView,
                               QLabel, QListWidget, QListWidgetItem, QPushButton, QSlider, QSpinBox,
                               QTableWidget, QTableWidgetItem, QTabWidget, QVBoxLayout, QWidget)

from engine.explain.ablation import Damage
from engine.explain.attribution import METHODS

from ..threads.jobs import FunctionPool
from .work import (Context, build_context, break_task, looks_task, rank_task, robust_task,
                            why_task)
from ..frame.screen_fit import vertical_scroll
from .views import AttributionView, DigitGrid, Gallery, HiddenMap, kernel_icon_image

__all__ = ["ExplainPanel"]

HIDDEN_OFF_SEED = 7
"""Seed of the choice of hidden units switched off."""


def _fmt(v: float) -> str:
    return f"{v:+g}" if v else "0"


class ExplainPanel(QWidget):
    """Explanations of the reading of the drawing, computed off the GUI thread.

    Parameters
    ----------
    parent : QWidget, optional
    data : engine.files.data.Dataset, optional
        Training images for the neighbours, test images for the map and the quick
        accuracy; by default the bundled sample (loaded on a worker thread).

    Signals
    -------
    overlayChanged(object)
        RGBA ``(H, W, 4)`` uint8 in canvas coordinates to draw over the canvas (the 28x28
        input's coordinates when no canvas image was given); None: draw no overlay.
    attributionChanged(object)
        The attribution map ``(28, 28)`` float64 (None when there is no drawing).
    robustnessChanged(object)
        An :class:`app.explain.work.RobustResult`.
    brokenChanged(object)
        An :class:`app.explain.work.BreakResult`.
    rankingChanged(object)
        An :class:`engine.explain.ablation.Ranking`.
    looksChanged(object)
        An :class:`app.explain.work.LooksResult`.
    dataReady(object)
        The data are indexed for the model (an :class:`app.explain.work.Context`): the
        Break it and Looks like views can now compute.
    failed(str)
        A computation failed; the message says which and why.
    """

    overlayChanged = Signal(object)
    attributionChanged = Signal(object)
    robustnessChanged = Signal(object)
    brokenChanged = Signal(object)
    rankingChanged = Signal(object)
    looksChanged = Signal(object)
    dataReady = Signal(object)
    failed = Signal(str)

    def __init__(self, parent=None, data=None):
        super().__init__(parent)
        self._data = data
        self.model = None
        self._gen = 0
        self._ctx: Context | None = None
        self.image28: np.ndarray | None = None
        self.canvas_image: np.ndarray | None = None
        self.preprocess = True
        # three threads: a slow job (indexing, robustness, ranking) never holds up the overlay
        self.runner = FunctionPool(self, threads=3, priorities={"why": 3, "looks": 2, "break": 2})
        self.runner.returned.connect(self._done)
        self.runner.errored.connect(self._failed)
        self.last: dict[str, object] = {}

        self.tabs = QTabWidget()
        # each tab scrolls on its own (vertically): the tallest does not make every tab scroll
        self.tabs.addTab(vertical_scroll(self._build_why()), "Why?")
        self.tabs.addTab(vertical_scroll(self._build_robust()), "Robustness")
        self.tabs.addTab(vertical_scroll(self._build_break()), "Break it")
        self.tabs.addTab(vertical_scroll(self._build_looks()), "Looks like…")
        self.tabs.currentChanged.connect(lambda _i: self._refresh())
        self.status = QLabel("No model yet")
        self.status.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.tabs, 1)
        lay.addWidget(self.status)

    # -- building -------------------------------------------------------------------
    def _build_why(self) -> QWidget:
        w = QWidget()
        self.method_box = QComboBox()
        self.method_box.addItems(list(METHODS))
        self.method_box.setToolTip("How each pixel's share is measured")
        self.class_box = QComboBox()
        self.class_box.addItem("the reading", None)
        for c in range(10):
            self.class_box.addItem(f"{c}", c)
        self.class_box.setToolTip("Explain the reading, or why the drawing is (not) read as this digit")
        self.overlay_box = QCheckBox("Show on the canvas")
        self.overlay_box.setChecked(True)
        self.overlay_box.toggled.connect(lambda _on: self._request_why())
        self.method_box.currentIndexChanged.connect(lambda _i: self._request_why())
        self.class_box.currentIndexChanged.connect(lambda _i: self._request_why())
        for box in (self.method_box, self.class_box):       # (narrow docks: elided, not cut off)
            box.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
            box.setMinimumContentsLength(6)
        self.why_label = QLabel("Draw a digit")
        self.why_label.setWordWrap(True)
        self.attr_view = AttributionView()
        self.attr_view.setToolTip("Red: ink that pushed towards the class; blue: ink that pushed away from it")
        top = self._why_top = QHBoxLayout()         # (narrow: "by …" under "Why …")
        for words, box in (("Why", self.class_box), ("by", self.method_box)):
            part = QHBoxLayout()
            part.addWidget(QLabel(words))
            part.addWidget(box, 1)
            top.addLayout(part, 1 if box is self.method_box else 0)
        lay = QVBoxLayout(w)
        lay.addLayout(top)
        lay.addWidget(self.overlay_box)
        lay.addWidget(self.attr_view, 1)
        lay.addWidget(self.why_label)
        return w

    def _build_robust(self) -> QWidget:
        w = QWidget()
        self.robust_button = QPushButton("Test this drawing")
        self.robust_button.setToolTip("Read the drawing shifted, rotated, scaled, thinner and thicker")
        self.robust_button.clicked.connect(self.test_robustness)
        self.robust_follow = QCheckBox("Follow the drawing")
        self.robust_follow.setToolTip("Test again whenever the drawing changes")
        self.robust_label = QLabel("Click to test how the reading holds up")
        self.robust_label.setWordWrap(True)
        self.grids: dict[bool, dict[str, DigitGrid]] = {}
        row = self._robust_row = QHBoxLayout()
        for pre, title in ((True, "Preprocessed like MNIST"), (False, "As drawn (no preprocessing)")):
            box = QGroupBox(title)
            form = QFormLayout(box)
            grids = {name: DigitGrid(cell=22 if name == "shift" else 26)
                     for name in ("shift", "angle", "scale", "thickness")}
            form.addRow("shifted\n(down ↓, right →)", grids["shift"])
            form.addRow("rotated (°)", grids["angle"])
            form.addRow("scaled (×)", grids["scale"])
            form.addRow("stroke width\n(pixels)", grids["thickness"])
            self.grids[pre] = grids
            row.addWidget(box)
        top = self._robust_top = QHBoxLayout()
        top.addWidget(self.robust_button)
        top.addWidget(self.robust_follow)
        top.addStretch(1)
        lay = QVBoxLayout(w)
        lay.addLayout(top)
        lay.addLayout(row)
        lay.addWidget(self.robust_label)
        lay.addStretch(1)
        return w

    def _build_break(self) -> QWidget:
        w = QWidget()
        self.kernel_list = QListWidget()
        self.kernel_list.setToolTip("Untick a kernel to switch it off (left out of the max over kernels)")
        self.kernel_list.itemChanged.connect(lambda _it: self._request_break())
        self.hidden_spin = QSpinBox()
        self.hidden_spin.setSuffix(" hidden units off")
        self.hidden_spin.setToolTip("Switch off this many hidden units, chosen at random (always the same ones)")
        self.noise_slider = QSlider(Qt.Horizontal)
        self.noise_slider.setRange(0, 100)
        self.noise_slider.setToolTip("Gaussian noise on every weight, as a percentage of its array's spread")
        self.noise_label = QLabel("0%")
        self.bits_spin = QSpinBox()
        self.bits_spin.setRange(0, 16)
        self.bits_spin.setSpecialValueText("not rounded")
        self.bits_spin.setSuffix(" bits")
        self.bits_spin.setToolTip("Round every weight to this many bits")
        for sig in (self.hidden_spin.valueChanged, self.noise_slider.valueChanged, self.bits_spin.valueChanged):
            sig.connect(lambda _v: self._request_break())
        self.noise_slider.valueChanged.connect(lambda v: self.noise_label.setText(f"{v}%"))
        self.repair_button = QPushButton("Repair")
        self.repair_button.clicked.connect(self.repair)
        self.break_label = QLabel("")
        self.break_label.setWordWrap(True)
        self.rank_button = QPushButton("Rank the kernels")
        self.rank_button.setToolTip("Test accuracy without each kernel in turn, on the quick subsample")
        self.rank_button.clicked.connect(self.rank_kernels)
        self.rank_table = QTableWidget(0, 3)
        self.rank_table.setHorizontalHeaderLabels(["kernel", "accuracy without", "drop"])
        self.rank_table.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        self.rank_table.verticalHeader().setVisible(False)
        self.rank_table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.rank_table.setToolTip("Double-click a kernel to switch it off or on")
        self.rank_table.cellDoubleClicked.connect(self._toggle_ranked)
        noise = QHBoxLayout()
        noise.addWidget(self.noise_slider, 1)
        noise.addWidget(self.noise_label)
        form = QFormLayout()
        form.addRow("Hidden units", self.hidden_spin)
        form.addRow("Weight noise", noise)
        form.addRow("Rounding", self.bits_spin)
        left = QVBoxLayout()
        left.addWidget(QLabel("Kernels"))
        left.addWidget(self.kernel_list, 1)
        right = QVBoxLayout()
        right.addLayout(form)
        right.addWidget(self.repair_button)
        right.addWidget(self.break_label)
        right.addWidget(self.rank_button)
        right.addWidget(self.rank_table, 1)
        form.setRowWrapPolicy(QFormLayout.WrapLongRows)
        lay = self._break_row = QHBoxLayout(w)        # (narrow: the kernels above the rest)
        lay.addLayout(left, 1)
        lay.addLayout(right, 2)
        return w

    def _build_looks(self) -> QWidget:
        w = QWidget()
        self.gallery = Gallery()
        self.gallery.setToolTip("The training images nearest to the drawing in the hidden layer")
        self.map_view = HiddenMap()
        self.map_view.setToolTip("Test images on the first two principal components of the hidden layer; "
                                 "the star is the drawing")
        self.looks_label = QLabel("")
        lay = QVBoxLayout(w)
        title = QLabel("Nearest training images in the hidden layer (label, distance)")
        title.setWordWrap(True)
        lay.addWidget(title)
        lay.addWidget(self.gallery)
        lay.addWidget(self.map_view, 1)
        lay.addWidget(self.looks_label)
        return w

    def fit_width(self, width: int) -> None:
        """Lay the tabs out for ``width`` pixels (their scroll area says so before laying
        the panel out): the two robustness grids side by side or one above the other, the
        nearest images in one row or two."""
        boxes = [self._robust_row.itemAt(i).widget() for i in range(self._robust_row.count())]
        side_by_side = sum(b.sizeHint().width() for b in boxes) + 40
        self._robust_row.setDirection(QHBoxLayout.LeftToRight if width >= side_by_side
                                      else QHBoxLayout.TopToBottom)
        self._why_top.setDirection(QHBoxLayout.LeftToRight if width >= 320 else QHBoxLayout.TopToBottom)
        self._robust_top.setDirection(QHBoxLayout.LeftToRight if width >= 330 else QHBoxLayout.TopToBottom)
        self.gallery.set_columns(self.gallery.columns_for(width - 24))
        self._break_row.setDirection(QHBoxLayout.LeftToRight if width >= 420 else QHBoxLayout.TopToBottom)

    # -- public API -----------------------------------------------------------------
    def set_model(self, model) -> None:
        """Explain ``model`` (an :class:`engine.net.model.Model`) from now on."""
        self.model = model
        self._gen += 1
        self._ctx = None
        self.last.clear()
        self.rank_table.setRowCount(0)
        self.kernel_list.blockSignals(True)
        self.kernel_list.clear()
        f = model.config.kernel_size
        for i, k in enumerate(model.params["K"]):
            it = QListWidgetItem(QIcon(QPixmap.fromImage(kernel_icon_image(k.reshape(f, f)))), f"kernel {i + 1}")
            it.setFlags(it.flags() | Qt.ItemIsUserCheckable)
            it.setCheckState(Qt.Checked)
            self.kernel_list.addItem(it)
        self.kernel_list.blockSignals(False)
        self.hidden_spin.setRange(0, model.config.hidden)
        self.status.setText(f"Indexing the training images for {model.name}…")
        self.runner.submit("context", build_context, model, self._gen, self._data)
        self._refresh()

    def set_drawing(self, image28, canvas_image=None, preprocess: bool = True) -> None:
        """Explain this drawing.

        Parameters
        ----------
        image28 : ndarray, (28, 28) float32 in [0, 1], or None
            The network's input, as :func:`engine.net.preprocess.to_mnist` returns it; None
            or all zeros: nothing drawn.
        canvas_image : ndarray, (H, W) float32 in [0, 1], optional
            The drawing it was made from; the overlay is then in its coordinates.
        preprocess : bool
            Whether ``to_mnist`` preprocessed it (crop, scale, centre).
        """
        img = None if image28 is None else np.asarray(image28, dtype=np.float32)
        if img is not None and not np.any(img > 0):
            img = None
        self.image28 = img
        self.canvas_image = None if canvas_image is None else np.asarray(canvas_image, dtype=np.float32)
        self.preprocess = bool(preprocess)
        self._refresh(drawing=True)

    def damage(self) -> Damage:
        """The damage set in the Break it tab."""
        off = tuple(i for i in range(self.kernel_list.count())
                    if self.kernel_list.item(i).checkState() != Qt.Checked)
        hidden = ()
        n = self.hidden_spin.value()
        if n and self.model is not None:
            rng = np.random.default_rng(HIDDEN_OFF_SEED)
            hidden = tuple(sorted(int(i) for i in rng.permutation(self.model.config.hidden)[:n]))
        bits = self.bits_spin.value() or None
        return Damage(off, hidden, self.noise_slider.value() / 100.0, bits)

    def repair(self) -> None:
        """Undo every damage."""
        for w in (self.hidden_spin, self.noise_slider, self.bits_spin):
            w.blockSignals(True)
            w.setValue(0)
            w.blockSignals(False)
        self.noise_label.setText("0%")
        self.kernel_list.blockSignals(True)
        for i in range(self.kernel_list.count()):
            self.kernel_list.item(i).setCheckState(Qt.Checked)
        self.kernel_list.blockSignals(False)
        self._request_break()

    def test_robustness(self) -> None:
        """Read the drawing under shifts, rotations, scales and stroke widths."""
        if self.model is None or self.image28 is None:
            self.robust_label.setText("Draw a digit first")
            return
        drawing = self.canvas_image if self.canvas_image is not None else self.image28
        self.robust_label.setText("Testing…")
        self.runner.submit("robust", robust_task, self.model, self._gen, drawing)

    def rank_kernels(self) -> None:
        """Rank the kernels by the test accuracy lost without each."""
        if self._ctx is None:
            self.status.setText("Still indexing the data; ranking when ready")
            self.last["rank-wanted"] = True
            return
        self.rank_button.setEnabled(False)
        self.runner.submit("rank", rank_task, self._ctx)

    def shutdown(self) -> None:
        """Wait for the running computations to end (call before the panel is deleted)."""
        self.runner.wait()

    # -- requests -------------------------------------------------------------------
    def _refresh(self, drawing: bool = False) -> None:
        tab = self.tabs.currentIndex()
        if tab == 0 or self.overlay_box.isChecked():
            self._request_why()
        if tab == 1 and drawing and self.robust_follow.isChecked():
            self.test_robustness()
        if tab == 2:
            self._request_break()
        if tab == 3:
            self._request_looks()

    def _request_why(self) -> None:
        if self.model is None or self.image28 is None:
            self.attr_view.show_map(self.image28, None)
            self.why_label.setText("Draw a digit")
            self.overlayChanged.emit(None)
            self.attributionChanged.emit(None)
            return
        self.runner.submit("why", why_task, self.model, self._gen, self.image28, self.canvas_image,
                           self.preprocess, self.method_box.currentText(), self.class_box.currentData())

    def _request_break(self) -> None:
        if self._ctx is not None:
            self.runner.submit("break", break_task, self._ctx, self.damage(), self.image28)

    def _request_looks(self) -> None:
        if self._ctx is not None and self.image28 is not None:
            self.runner.submit("looks", looks_task, self._ctx, self.image28)

    # -- results --------------------------------------------------------------------
    def _done(self, channel: str, out) -> None:
        gen = out[0] if isinstance(out, tuple) else out.gen
        if gen != self._gen:
            return                                   # computed for a model replaced since
        self.last[channel] = out
        getattr(self, f"_show_{channel}")(out)

    def _failed(self, channel: str, message: str) -> None:
        self.status.setText(f"Could not compute {channel}: {message}")
        if channel == "rank":
            self.rank_button.setEnabled(True)
        self.failed.emit(f"{channel}: {message}")

    def _show_context(self, ctx: Context) -> None:
        self._ctx = ctx
        self.map_view.set_points(ctx.pca.points, ctx.pca.labels)
        n = len(ctx.index.labels)
        self.status.setText(f"{n:,} training images indexed, {len(ctx.pca.labels):,} test images mapped "
                            f"({ctx.seconds:.1f} s)")
        self.dataReady.emit(ctx)
        if self.last.pop("rank-wanted", False):
            self.rank_kernels()
        self._refresh(drawing=True)

    def _show_why(self, r) -> None:
        if self.image28 is None:
            return
        self.attr_view.show_map(self.image28, r.attribution)
        best = int(np.argmax(r.proba))
        p = float(r.proba[r.target])
        if r.target == best:
            text = f"Read as {best} ({p:.0%}). Red ink pushed towards {best}, blue away from it."
        else:
            text = (f"Why not {r.target}? It has {p:.1%} (the reading, {best}, has {r.proba[best]:.0%}). "
                    f"Red ink pushed towards {r.target}, blue away from it.")
        self.why_label.setText(f"{text} [{r.method}, {r.seconds * 1000:.0f} ms]")
        self.attributionChanged.emit(r.attribution)
        self.overlayChanged.emit(r.overlay if self.overlay_box.isChecked() else None)

    def _show_robust(self, r) -> None:
        for pre, rob in ((True, r.on), (False, r.off)):
            g = self.grids[pre]
            read = rob.reading
            c = len(rob.shifts) // 2
            g["shift"].set_values(rob.shift_proba, read, [_fmt(s) for s in rob.shifts],
                                  [_fmt(s) for s in rob.shifts], highlight=(c, c))
            g["angle"].set_values(rob.angle_proba[None], read, (), [f"{a:g}" for a in rob.angles])
            g["scale"].set_values(rob.scale_proba[None], read, (), [f"{s:g}" for s in rob.scales])
            g["thickness"].set_values(rob.thickness_proba[None], read, (), [_fmt(t) for t in rob.thickness])
        self.robust_label.setText(
            f"Read as {r.on.reading}: kept in {r.on.kept():.0%} of the variations preprocessed, "
            f"as {r.off.reading}: kept in {r.off.kept():.0%} as drawn. "
            f"Green: same reading (brighter: surer); red: another digit. [{r.seconds * 1000:.0f} ms]")
        self.robustnessChanged.emit(r)

    def _show_break(self, r) -> None:
        d = r.damage
        what = []
        if d.kernels_off:
            what.append(f"{len(d.kernels_off)} kernel{'s' if len(d.kernels_off) > 1 else ''} off")
        if d.hidden_off:
            what.append(f"{len(d.hidden_off)} hidden units off")
        if d.noise:
            what.append(f"{d.noise:.0%} weight noise")
        if d.bits:
            what.append(f"weights on {d.bits} bits")
        lines = [("Broken: " + ", ".join(what)) if what else "Intact"]
        if r.proba is not None:
            b, i = int(np.argmax(r.proba)), int(np.argmax(r.intact_proba))
            lines.append(f"Reads the drawing as {b} ({r.proba[b]:.0%}); intact: {i} ({r.intact_proba[i]:.0%})")
        lines.append(f"Test accuracy on {r.samples} test images: {r.accuracy:.1%} "
                     f"(intact {r.intact_accuracy:.1%})")
        self.break_label.setText("\n".join(lines))
        self.brokenChanged.emit(r)

    def _show_rank(self, out) -> None:
        _gen, ranking, seconds = out
        self.rank_button.setEnabled(True)
        t = self.rank_table
        t.setRowCount(len(ranking.order))
        for row, k in enumerate(ranking.order):
            for col, text in enumerate((f"kernel {k + 1}", f"{ranking.without[k]:.1%}",
                                        f"{100 * ranking.drop[k]:+.1f} points")):
                it = QTableWidgetItem(text)
                it.setTextAlignment(Qt.AlignCenter)
                t.setItem(row, col, it)
        self.status.setText(f"Kernels ranked on {len(self._ctx.test_labels)} test images "
                            f"(accuracy {ranking.accuracy:.1%}) in {seconds:.1f} s")
        self.rankingChanged.emit(ranking)

    def _toggle_ranked(self, row: int, _col: int) -> None:
        ranking = self.last.get("rank")
        if ranking is None:
            return
        item = self.kernel_list.item(int(ranking[1].order[row]))
        item.setCheckState(Qt.Unchecked if item.checkState() == Qt.Checked else Qt.Checked)

    def _show_looks(self, r) -> None:
        if self.image28 is None:
            return
        self.gallery.show_images(r.images, [f"{int(l)}  ({d:.1f})" for l, d in zip(r.labels, r.distance)],
                                 [f"training image {int(i)}, label {int(l)}" for i, l in zip(r.index, r.labels)])
        best = int(np.argmax(r.proba))
        self.map_view.set_drawing(r.xy, f"your {best}")
        votes = np.bincount(r.labels, minlength=10)
        self.looks_label.setText(f"Its nearest training images are mostly {int(votes.argmax())}s "
                                 f"({votes.max()} of {len(r.labels)}); the net reads it as {best}.")
        self.looksChanged.emit(r)
