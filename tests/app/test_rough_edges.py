"""Issue 19, the rough edges a new user hit, each tested by what the window shows
(offscreen, in this process; the screen-size cases are in test_rough_edges_layout.py)."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication

from app.jobs import RunRecorded
from engine.events import Progress

from .conftest import GATE_TIMEOUT, draw_on, line, small_settings, use_gated

TIMEOUT = int(GATE_TIMEOUT * 1000)


def _listed(qtbot, view, n):
    qtbot.waitUntil(lambda: not view.reading() and len(view.runs) == n, timeout=TIMEOUT)


def _run(qtbot, window, gate, step=False, **kw):
    panel = window.training_panel
    use_gated(panel, gate, size=100, chunk=10)
    panel.apply_settings(small_settings(epochs=3, **kw))
    gate.open_all()
    with qtbot.waitSignal(panel.trainingStopped, timeout=TIMEOUT):
        with qtbot.waitSignal(panel.eventShown, check_params_cb=lambda e: isinstance(e, RunRecorded),
                              timeout=TIMEOUT):
            assert panel.step() if step else panel.start()


# -- edge 4: the Timeline and a live run; closing its dock; a Step is a run ----------------------
def test_the_timeline_follows_a_run_in_progress(qtbot, window, gate):
    """While a run trains, the Timeline says where it is (in the run's unit) over an axis
    from 0 to the run's end, and plots the drawing's reading at each snapshot."""
    draw_on(window, line(140, 40, 140, 240))
    window.timeline_dock.show()
    panel, tp = window.training_panel, window.timeline_panel
    use_gated(panel, gate, size=100, chunk=10)
    panel.apply_settings(small_settings(epochs=3, mode="backprop"))
    with qtbot.waitSignal(panel.eventShown, check_params_cb=lambda e: isinstance(e, Progress),
                          timeout=TIMEOUT):
        assert panel.start()
        gate.release(2)
    qtbot.waitUntil(lambda: "training" in tp.label.text(), timeout=TIMEOUT)
    gate.release(12)                      # into the second epoch
    qtbot.waitUntil(lambda: "epoch 2 of 3" in tp.label.text(), timeout=TIMEOUT)
    assert "No run yet" not in tp.label.text()
    axis = tp.plot.getPlotItem().getAxis("bottom")
    assert axis.labelText == "epoch" and axis.autoSIPrefixScale == 1.0
    lo, hi = tp.plot.getPlotItem().viewRange()[0]
    assert lo >= -0.2 and 2.9 <= hi <= 3.3                              # 0 .. 3 epochs, not -400 .. 400
    xs, ys = tp.curves[0].getData()
    assert xs is not None and len(xs) >= 1 and np.all((ys >= 0) & (ys <= 1))
    with qtbot.waitSignal(panel.trainingStopped, timeout=TIMEOUT):
        gate.open_all()


def test_the_empty_timeline_has_no_scaled_axis(window):
    tp = window.timeline_panel
    axis = tp.plot.getPlotItem().getAxis("bottom")
    lo, hi = tp.plot.getPlotItem().viewRange()[0]
    assert "No run yet" in tp.label.text() and lo > -1 and hi < 2 and "x0.001" not in axis.labelString()


def test_closing_the_timeline_gives_the_reading_back_to_the_current_model(qtbot, window, gate):
    """Runs ▸ Open timeline, scrub back, close the dock: the drawing is read by the current
    model again (it stayed with the old point)."""
    draw_on(window, line(140, 40, 140, 240))
    _run(qtbot, window, gate)
    view = window.runs_view
    _listed(qtbot, view, 1)
    view.select([0])
    assert view.open_timeline()
    tp = window.timeline_panel
    tp.set_index(0)
    assert window.view_model() is not window.current_model()
    assert "the timeline" in window.prediction.model_label.text()
    window.timeline_dock.close()
    qtbot.waitUntil(lambda: window.view_model() is window.current_model(), timeout=TIMEOUT)
    qtbot.waitUntil(lambda: "the timeline" not in window.prediction.model_label.text(), timeout=TIMEOUT)
    x = window.last_input
    np.testing.assert_allclose(window.last_forward.proba[0], window.current_model().see(x).proba[0])
    window.timeline_dock.show()                          # opened again: back at its point
    qtbot.waitUntil(lambda: window.view_model() is tp.timeline[0].model, timeout=TIMEOUT)


def test_a_step_is_a_run_listed_in_runs(qtbot, window, gate):
    _run(qtbot, window, gate, step=True)
    view = window.runs_view
    view.refresh()
    _listed(qtbot, view, 1)
    assert view.runs[0].iterations == 1


# -- edge 6: one unit word per mode, plurals ------------------------------------------------------
def test_a_backprop_run_speaks_of_epochs_everywhere(qtbot, window, gate):
    _run(qtbot, window, gate, mode="backprop")
    panel = window.training_panel
    log = panel.log.toPlainText()
    summary = log.strip().splitlines()[-1]
    assert "iteration" not in summary.lower() and "3 epochs" in summary, summary
    assert summary.count("3 epochs") == 1, summary                      # not "Ran 3 ... 3 epochs"
    assert "epoch" in panel.progress_bar.format() and "iteration" not in panel.progress_bar.format()
    assert "3 epochs" in window.windowTitle() and "iteration" not in window.windowTitle()
    assert window.timeline_panel.plot.getPlotItem().getAxis("bottom").labelText == "epoch"
    assert "epoch" in window.timeline_panel.label.text()
    plots = panel.plots
    assert plots.error_plot.getPlotItem().getAxis("bottom").labelText == "epoch"


def test_one_iteration_is_singular(qtbot, window, gate):
    _run(qtbot, window, gate, step=True)
    log = window.training_panel.log.toPlainText()
    assert "1 iterations" not in log and "1 iteration" in log, log
    assert "1 iterations" not in window.windowTitle()
