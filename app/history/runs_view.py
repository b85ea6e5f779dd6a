"""The Runs view: every recorded run, their curves overlaid, open, export, delete.

The list is the runs folder (:func:`engine.history.runs.default_runs_dir`, the same as the
command line's); each new run of the window appears when it is recorded. The folder is
read off the GUI thread (:class:`app.threads.jobs.FunctionPool`), the newest request
first. The Sweeps tab (:mod:`app.history.sweeps_view`) shows the sweeps recorded there and their
plots.
"""
from __future__ import annotations

import time
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel,
                               QPushButton, QTableWidget, QTableWidgetItem, QTabWidget, QVBoxLayout,
                               QWidget)

from engine.history import runs as eruns
from engine.sweep import recorded as sweep_runs

from ..threads.jobs import FunctionPool
from ..train.plots import legend_below
from ..train.words import unit_of
from .sweeps_view import READING, SweepsPanel

__all__ = ["RunsView"]

COLUMNS = ("Date", "Mode", "Architecture", "Data", "Iterations", "Arg-max accuracy", "Time", "Sweep")
PENS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]


def _read_folder(runs_dir: Path) -> tuple:
    """The runs and sweeps of ``runs_dir`` and the faults found (runs off the GUI thread):
    ``(runs_dir, runs, faults, sweeps, sweep_faults)``."""
    runs, faults = eruns.list_runs(runs_dir)
    sweeps, sweep_faults = sweep_runs.list_sweeps(runs_dir)
    return runs_dir, runs, faults, sweeps, sweep_faults


def _short_data(description: str) -> str:
    """"MNIST: 10,000 training and 10,000 test images" from a data set's one-line description."""
    kind = "sample" if "sample" in description.lower() else "MNIST" if "MNIST" in description else "data"
    return f"{kind}: {description.rsplit('; using ', 1)[-1]}" if "; using " in description else description


class RunsView(QWidget):
    """A table of the runs, an overlay of the selected runs' curves, and actions on them.

    Parameters
    ----------
    window : app.main_window.MainWindow
        Whose model, timeline and prompts the actions use.
    runs_dir : path, optional
        Default: :func:`engine.history.runs.default_runs_dir`.

    Attributes
    ----------
    read_folder : callable
        ``read_folder(runs_dir) -> (runs_dir, runs, faults, sweeps, sweep_faults)``, run
        off the GUI thread.
    """

    def __init__(self, window, runs_dir=None, parent=None):
        super().__init__(parent)
        self.window = window
        self.runs_dir = Path(runs_dir) if runs_dir is not None else eruns.default_runs_dir()
        self.runs: list[eruns.RunInfo] = []
        self.read_folder = _read_folder
        self.runner = FunctionPool(self, threads=1)
        self.runner.returned.connect(self._read_done)
        self.runner.errored.connect(self._read_failed)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.Interactive)
        self.table.setColumnWidth(3, 300)
        self.table.itemSelectionChanged.connect(self._overlay)
        self.table.doubleClicked.connect(lambda _i: self.open_timeline())
        rows = self.table.verticalHeader().defaultSectionSize()       # at least four rows in view
        self.table.setMinimumHeight(self.table.horizontalHeader().sizeHint().height() + 4 * rows + 8)
        lay.addWidget(self.table, 2)
        buttons = QHBoxLayout()
        self.buttons = {}
        for name, slot, tip in (("Open model", self.open_model, "Draw with this run's final model"),
                                ("Open timeline", self.open_timeline, "Scrub this run's snapshots"),
                                ("Export curves…", self.export_curves, "Save the curves as CSV"),
                                ("Export kernels…", self.export_kernels,
                                 "Save the kernels' evolution as a PNG strip"),
                                ("Delete", self.delete_selected, "Delete the selected runs"),
                                ("Refresh", self.refresh, "Read the runs folder again")):
            b = QPushButton(name)
            b.setToolTip(tip)
            b.clicked.connect(slot)
            buttons.addWidget(b)
            self.buttons[name] = b
        lay.addLayout(buttons)
        self.note = QLabel()
        self.note.setWordWrap(True)
        lay.addWidget(self.note)
        self.plot = pg.PlotWidget(title="Selected runs: training error (solid), test accuracy (dots)",
                                  background="w")
        self.plot.setLabel("bottom", "iteration")
        self.plot.setLabel("left", "training error")
        self.plot.getPlotItem().getAxis("left").enableAutoSIPrefix(False)
        legend_below(self.plot, columns=3)          # (over the plot it hid the dots)
        self.acc_view = pg.ViewBox()
        pi = self.plot.getPlotItem()
        pi.showAxis("right")
        pi.scene().addItem(self.acc_view)
        pi.getAxis("right").linkToView(self.acc_view)
        pi.getAxis("right").setLabel("arg-max accuracy (%)")
        self.acc_view.setXLink(pi)
        pi.vb.sigResized.connect(lambda: self.acc_view.setGeometry(pi.vb.sceneBoundingRect()))
        self.sweeps = SweepsPanel(self)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.plot, "Curves")
        self.tabs.addTab(self.sweeps, "Sweeps")
        lay.addWidget(self.tabs, 3)
        self.refresh()

    # -- the list ------------------------------------------------------------------------
    def refresh(self) -> None:
        """Read the runs folder again, off the GUI thread: the list shows that it is read
        and fills when the reading ends (a refresh asked meanwhile replaces any waiting)."""
        self.note.setText(READING)
        self.note.setToolTip(str(self.runs_dir))
        self.sweeps.set_reading()
        self.runner.submit("folder", self.read_folder, self.runs_dir)

    def reading(self) -> bool:
        """Whether the runs folder is being read."""
        return self.runner.busy()

    def shutdown(self, msecs: int = -1) -> bool:
        """Wait for the reading under way to end (call before the view is deleted)."""
        return self.runner.wait(msecs)

    def _read_failed(self, _channel: str, message: str) -> None:
        if not self.runner.busy():
            self.note.setText(f"Could not read the runs folder: {message}")

    def _read_done(self, _channel: str, out: tuple) -> None:
        runs_dir, runs, faults, sweeps, sweep_faults = out
        if self.runner.busy() or runs_dir != self.runs_dir:
            return                      # a newer reading runs: it is the one shown
        self.runs = runs
        self.table.setRowCount(len(self.runs))
        for r, run in enumerate(self.runs):
            acc = f"{run.argmax_accuracy:.2f}%" if run.argmax_accuracy is not None else "–"
            cells = (time.strftime("%Y-%m-%d %H:%M", time.localtime(run.created)), run.mode,
                     run.architecture, _short_data(run.data), str(run.iterations), acc, f"{run.train_seconds:.1f} s",
                     run.sweep or "")
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(f"{run.id}\n{run.path}\n{run.data}")
                self.table.setItem(r, c, item)
        where = f"{len(self.runs)} run{'s' if len(self.runs) != 1 else ''} in the runs folder"
        self.note.setText(where + ("" if not faults else f"; {len(faults)} unreadable: {faults[0]}"))
        self._overlay()
        self.sweeps.show_sweeps(sweeps, sweep_faults)
        self.tabs.setTabText(1, f"Sweeps ({len(self.sweeps.sweeps)})" if self.sweeps.sweeps else "Sweeps")

    def show_sweep(self, sweep_id: str) -> bool:
        """Bring the Sweeps tab forward on sweep ``sweep_id`` (False: no such sweep)."""
        if not self.sweeps.choose(sweep_id):
            return False
        self.tabs.setCurrentWidget(self.sweeps)
        return True

    def selected(self) -> list[eruns.RunInfo]:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        return [self.runs[r] for r in rows if r < len(self.runs)]

    def select(self, rows) -> None:
        self.table.clearSelection()
        mode = self.table.selectionMode()
        self.table.setSelectionMode(QAbstractItemView.MultiSelection)
        for r in rows:
            self.table.selectRow(r)
        self.table.setSelectionMode(mode)

    def _overlay(self) -> None:
        pi = self.plot.getPlotItem()
        for item in list(pi.listDataItems()):
            pi.removeItem(item)
        self.acc_view.clear()
        units = {unit_of(run.mode) for run in self.selected()}
        self.plot.setLabel("bottom", units.pop() if len(units) == 1 else "iteration (epoch for backprop runs)")
        for k, run in enumerate(self.selected()):
            df = eruns.curves_frame(run)
            pen = PENS[k % len(PENS)]
            pi.plot(df["iteration"].to_numpy(float), df["train_error"].to_numpy(float),
                    pen=pg.mkPen(pen, width=2), name=run.id)
            t = df.dropna(subset=["argmax_accuracy"])
            if len(t):
                self.acc_view.addItem(pg.ScatterPlotItem(t["iteration"].to_numpy(float),
                                                         t["argmax_accuracy"].to_numpy(float),
                                                         brush=pen, size=7))

    # -- actions ---------------------------------------------------------------------------
    def _one(self) -> eruns.RunInfo | None:
        sel = self.selected()
        if not sel:
            self.window.prompts.note("Runs", "Select a run first.")
            return None
        return sel[0]

    def open_model(self) -> bool:
        run = self._one()
        if run is None:
            return False
        try:
            model = eruns.load_run_model(run)
        except (OSError, ValueError) as e:
            self.window.prompts.error("Cannot open the run's model", str(e))
            return False
        model.name = f"run {run.id}"
        return self.window.owner.replace(model)

    def open_timeline(self) -> bool:
        run = self._one()
        if run is None:
            return False
        try:
            tl = eruns.load_timeline(run)
        except (OSError, ValueError) as e:
            self.window.prompts.error("Cannot open the run's timeline", str(e))
            return False
        self.window.timeline_wiring.open_timeline(tl, f"run {run.id}", run.curves, run.mode)
        self.window.timeline_dock.show()
        self.window.timeline_dock.raise_()
        return True

    def export_curves(self) -> bool:
        run = self._one()
        if run is None:
            return False
        path = self.window.prompts.save_file("Export the curves", f"{run.id}.csv", "CSV (*.csv)")
        if not path:
            return False
        eruns.export_curves_csv(run, path)
        return True

    def export_kernels(self) -> bool:
        run = self._one()
        if run is None:
            return False
        path = self.window.prompts.save_file("Export the kernels' evolution", f"{run.id}-kernels.png",
                                             "PNG (*.png)")
        if not path:
            return False
        eruns.export_kernel_strip(eruns.load_timeline(run), path)
        return True

    def delete_selected(self) -> int:
        sel = self.selected()
        if not sel:
            return 0
        names = ", ".join(r.id for r in sel)
        if not self.window.prompts.confirm("Delete runs", f"Delete {len(sel)} run(s): {names}?"):
            return 0
        for run in sel:
            try:
                eruns.delete_run(run)
            except eruns.RunsError as e:
                self.window.prompts.error("Cannot delete the run", str(e))
        self.refresh()
        return len(sel)
