"""The Runs view's Sweeps tab: the sweeps recorded in the runs folder and their plots.

``digitlab sweep`` records its runs in the runs folder and copies its summary plots under
``sweeps/<sweep id>/`` (:mod:`engine.sweep.recorded`); this tab lists those sweeps, shows the
chosen one's plots (scaled to the tab) and its summary, and selects its runs in the list.
The Runs view reads them with its runs, off the GUI thread.
"""
from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem,
                               QPlainTextEdit, QPushButton, QSizePolicy, QSplitter, QVBoxLayout,
                               QWidget)

from engine.sweep import recorded as sweep_runs

__all__ = ["SweepsPanel"]

#: What the Runs view and this tab say while the runs folder is read.
READING = "Reading the runs folder…"


class _Image(QLabel):
    """A label showing an image scaled to fit, keeping its proportions."""

    def __init__(self):
        super().__init__()
        self.setAlignment(Qt.AlignCenter)
        self.setMinimumSize(160, 100)
        self.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Ignored)
        self.source = QPixmap()

    def set_source(self, pixmap: QPixmap) -> None:
        self.source = pixmap
        self._fit()

    def resizeEvent(self, event):  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        if self.source.isNull():
            self.clear()
        else:
            self.setPixmap(self.source.scaled(self.size(), Qt.KeepAspectRatio, Qt.SmoothTransformation))


class SweepsPanel(QWidget):
    """The sweeps of a runs folder: a list, the chosen sweep's plot and summary.

    Parameters
    ----------
    runs_view : app.history.runs_view.RunsView
        Whose runs folder is read and whose list *Select its runs* selects in.
    """

    def __init__(self, runs_view, parent=None):
        super().__init__(parent)
        self.runs_view = runs_view
        self.sweeps: list[sweep_runs.SweepInfo] = []
        self.shown: Path | None = None          # the plot on show
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        split = QSplitter(Qt.Horizontal)
        lay.addWidget(split)
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        self.list = QListWidget()
        self.list.currentRowChanged.connect(self._chosen)
        ll.addWidget(self.list, 1)
        self.select_button = QPushButton("Select its runs")
        self.select_button.setToolTip("Select this sweep's runs in the list (their curves overlaid)")
        self.select_button.clicked.connect(self.select_runs)
        ll.addWidget(self.select_button)
        self.summary = QPlainTextEdit()
        self.summary.setReadOnly(True)
        self.summary.setLineWrapMode(QPlainTextEdit.WidgetWidth)
        ll.addWidget(self.summary, 1)
        split.addWidget(left)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        self.plots = QComboBox()
        self.plots.currentIndexChanged.connect(self._plot_chosen)
        rl.addWidget(self.plots)
        self.image = _Image()
        rl.addWidget(self.image, 1)
        split.addWidget(right)
        split.setSizes([260, 640])
        self.empty = QLabel()
        self.empty.setWordWrap(True)         # (its text comes once the folder is read)
        ll.addWidget(self.empty)

    def refresh(self) -> None:
        """Read the runs folder's sweeps again (with its runs, off the GUI thread)."""
        self.runs_view.refresh()

    def set_reading(self) -> None:
        """Say that the runs folder is being read (the list shown stays until it is)."""
        self.empty.setText(READING)

    def show_sweeps(self, sweeps: list[sweep_runs.SweepInfo], faults: list[str]) -> None:
        """Show ``sweeps`` (and the ``faults`` found reading them), keeping the chosen one."""
        keep = self.current().id if self.current() is not None else None
        self.sweeps = list(sweeps)
        self.list.blockSignals(True)
        self.list.clear()
        for sw in self.sweeps:
            item = QListWidgetItem(f"{sw.id}  ({sw.runs} runs, "
                                   f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(sw.updated))})")
            item.setToolTip(f"{sw.description}\ntable: {sw.table}\n{sw.path}")
            self.list.addItem(item)
        self.list.blockSignals(False)
        self.empty.setText(("" if self.sweeps else "No sweeps in the runs folder: `digitlab sweep` "
                            "records its runs and plots there.")
                           + (f" {len(faults)} unreadable: {faults[0]}" if faults else ""))
        ids = [sw.id for sw in self.sweeps]
        self.list.setCurrentRow(ids.index(keep) if keep in ids else (0 if ids else -1))
        self._chosen(self.list.currentRow())

    def current(self) -> sweep_runs.SweepInfo | None:
        i = self.list.currentRow()
        return self.sweeps[i] if 0 <= i < len(self.sweeps) else None

    def choose(self, sweep_id: str) -> bool:
        """Show the sweep ``sweep_id``; False if the runs folder has no such sweep."""
        for i, sw in enumerate(self.sweeps):
            if sw.id == sweep_id:
                self.list.setCurrentRow(i)
                return True
        return False

    def _chosen(self, _row: int) -> None:
        sw = self.current()
        self.select_button.setEnabled(sw is not None)
        self.summary.setPlainText("" if sw is None else "\n".join([sw.description, *sw.summary]))
        self.plots.blockSignals(True)
        self.plots.clear()
        for p in sw.plots if sw is not None else []:
            self.plots.addItem(p.name, str(p))
        self.plots.blockSignals(False)
        self.plots.setVisible(self.plots.count() > 1)
        self._plot_chosen(self.plots.currentIndex())

    def _plot_chosen(self, index: int) -> None:
        path = self.plots.itemData(index) if index >= 0 else None
        self.shown = Path(path) if path else None
        pixmap = QPixmap(path) if path else QPixmap()
        self.image.set_source(pixmap)
        if path and pixmap.isNull():
            self.image.setText(f"{path}: not a readable image")
        elif not path and self.current() is not None:
            self.image.setText("This sweep saved no plots (--no-plots).")

    def select_runs(self) -> int:
        """Select the chosen sweep's runs in the Runs list; returns how many."""
        sw = self.current()
        if sw is None:
            return 0
        rows = [r for r, run in enumerate(self.runs_view.runs) if run.sweep == sw.id]
        self.runs_view.select(rows)
        return len(rows)
