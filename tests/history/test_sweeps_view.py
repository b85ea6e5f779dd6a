"""The Runs view's Sweeps tab: a recorded sweep's plot, its runs, their one-point timelines."""
from __future__ import annotations

import pandas as pd
import pytest

from engine.history import runs as eruns
from engine.sweep.command import row_to_run, run_kept
from engine.sweep.recorded import SweepRecorder
from engine.sweep.summary import save_plots, summarize, summary_lines
from engine.train.recipes import RunSettings


def _record_sweep(tmp_path, seeds=(0, 1)) -> SweepRecorder:
    """Two tiny runs on the bundled sample, recorded as `digitlab sweep` records them."""
    pytest.importorskip("matplotlib")          # the plots are the optional extra's
    rec = SweepRecorder(eruns.default_runs_dir(), tmp_path / "tiny.csv")
    rows = []
    for seed in seeds:
        s = RunSettings.for_mode("article").replace(source="sample", train=200, epochs=1, seed=seed)
        row, outcome = run_kept(s)
        rec.save_run(row["key"], s, outcome)
        rows.append(row_to_run(row))
    df = pd.DataFrame(rows)
    summary = summarize(df, [], article={"iterations": 13, "percent_correct": 92.57})
    plots = save_plots(df, [], summary, str(tmp_path / "tiny"),
                       article={"iterations": 13, "percent_correct": 92.57})
    rec.finish("2 runs: tiny", len(rows), summary_lines(summary), plots)
    return rec


def test_the_runs_view_shows_a_sweeps_plot_and_its_runs(qtbot, window, tmp_path):
    rec = _record_sweep(tmp_path)
    view = window.runs_view
    view.refresh()
    qtbot.waitUntil(lambda: not view.reading(), timeout=20000)
    assert len(view.runs) == 2 and {r.sweep for r in view.runs} == {rec.id}
    assert view.tabs.tabText(1) == "Sweeps (1)"
    assert view.show_sweep(rec.id)
    assert view.tabs.currentWidget() is view.sweeps
    panel = view.sweeps
    plot = eruns.default_runs_dir() / "sweeps" / rec.id / "tiny-seeds.png"
    assert panel.shown == plot and plot.is_file()
    assert not panel.image.source.isNull() and panel.image.source.width() > 100
    window.runs_dock.show()
    qtbot.waitUntil(lambda: panel.image.pixmap() is not None and not panel.image.pixmap().isNull())
    assert "2 runs: tiny" in panel.summary.toPlainText()
    assert "percent correct" in panel.summary.toPlainText()
    # its runs, selected in the list, their curves overlaid
    assert panel.select_runs() == 2
    assert len(view.selected()) == 2
    assert len(view.plot.getPlotItem().listDataItems()) == 2
    # a sweep's run opens as a one-point timeline: its final model
    view.select([0])
    assert view.open_timeline()
    assert len(window.timeline_panel.timeline) == 1
    assert view.runs[0].snapshots == 0


def test_no_sweeps_says_how_to_make_one(qtbot, window):
    panel = window.runs_view.sweeps
    qtbot.waitUntil(lambda: not window.runs_view.reading(), timeout=20000)
    assert panel.sweeps == [] and panel.current() is None
    assert "digitlab sweep" in panel.empty.text()
    assert not window.runs_view.show_sweep("nothing")
