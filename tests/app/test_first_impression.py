"""Issue 11: what a newcomer meets first (the first stroke, the empty canvas, undo and
redo, the shipped model, presets, the plots' units, stale plots, readable views, themes,
help, preprocessing side by side)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from engine.net.preprocess import to_mnist

from .conftest import GATE_TIMEOUT, small_settings, use_gated
from tests.helpers import draw_on, line

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = int(GATE_TIMEOUT * 1000)


def _three(n=40):
    t = np.linspace(0, 1, n)
    top = [(140 + 60 * np.cos(a), 95 + 45 * np.sin(a)) for a in -np.pi / 2 + t[: n // 2] * 2 * 0.97 * np.pi]
    bottom = [(140 + 60 * np.cos(a), 185 + 45 * np.sin(a)) for a in -np.pi / 2 + (t[n // 2:] - 0.5) * 2 * np.pi]
    return top + bottom


# -- item 1: the first stroke --------------------------------------------------------------
def test_every_point_of_the_first_stroke_reaches_the_canvas(qtbot, settings, prompts):
    """A stroke sent to a fresh window right after it shows (the compile still running):
    every point is recorded, and the reading follows once the warm-up is done."""
    from app.main_window import MainWindow
    w = MainWindow(settings=settings, prompts=prompts)
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    qtbot.waitExposed(w)
    c = w.canvas
    r = c.target_rect()
    k = r.width() / 280
    sent = [QPoint(int(round(r.x() + x * k)), int(round(r.y() + y * k))) for x, y in _three()]
    QTest.mousePress(c, Qt.LeftButton, Qt.NoModifier, sent[0])
    for p in sent[1:]:
        QTest.mouseMove(c, p)
    QTest.mouseRelease(c, Qt.LeftButton, Qt.NoModifier, sent[-1])
    got = [c.to_canvas(QPointF(p)) for p in sent]
    recorded = c.strokes()[0].points
    assert len(recorded) == len(sent)
    for a, b in zip(recorded, got):
        assert abs(a.x() - b.x()) < 1e-6 and abs(a.y() - b.y()) < 1e-6
    qtbot.waitUntil(lambda: w.reading.proba is not None, timeout=TIMEOUT)
    assert w.warmup.is_done() and w.warmup.error is None
    assert w.warmup.waits == 0                # the event loop never waited for the compile
    np.testing.assert_allclose(w.reading.input, to_mnist(c.image()))


# -- item 2: the empty canvas --------------------------------------------------------------
def test_the_empty_canvas_shows_a_hint_and_empty_views(window, qtbot):
    window.net_dock.raise_()
    qtbot.waitUntil(lambda: window.net_view.isVisible(), timeout=TIMEOUT)
    window.classify_now()
    nv = window.net_view
    assert window.canvas.is_empty() and nv.empty
    assert not nv.maps_item.image[..., 3].any()                   # no feature maps
    assert not nv.winner_item.image[..., 3].any() and not nv.pooled_item.image[..., 3].any()
    assert "Draw a digit" in nv.legend.text()
    hint = window.canvas.grab().toImage()
    centre = [hint.pixelColor(x, hint.height() // 2).red() for x in range(hint.width())]
    assert max(centre) > 60                                       # the hint's grey letters
    draw_on(window, line(140, 50, 140, 230))
    qtbot.waitUntil(lambda: not nv.empty, timeout=TIMEOUT)
    assert nv.maps_item.image[..., 3].any() and nv.pooled_item.image[..., 3].any()


# -- item 3: undo, redo, clear -------------------------------------------------------------
def test_clear_can_be_undone_and_redone_and_states_follow(window, qtbot):
    c, w = window.canvas, window
    assert not w.act_undo.isEnabled() and not w.act_clear.isEnabled() and not w.undo_redo.act_redo.isEnabled()
    draw_on(w, line(140, 50, 140, 230))
    assert w.act_undo.isEnabled() and w.act_clear.isEnabled()
    drawn = c.image().copy()
    QTest.keyClick(c, Qt.Key_Backspace)                           # clear
    assert c.is_empty() and not w.act_clear.isEnabled() and w.act_undo.isEnabled()
    w.act_undo.trigger()                                          # the clear is undone
    np.testing.assert_array_equal(c.image(), drawn)
    assert w.undo_redo.act_redo.isEnabled()
    w.undo_redo.act_redo.trigger()                                   # and redone
    assert c.is_empty()
    w.act_undo.trigger()
    w.act_undo.trigger()                                          # and the stroke undone
    assert c.is_empty() and not w.act_undo.isEnabled() and w.undo_redo.act_redo.isEnabled()
    QTest.keyClick(c, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)   # redo on the canvas
    np.testing.assert_array_equal(c.image(), drawn)


def test_the_cursor_shows_the_brush_size(window):
    c = window.canvas
    scale = c.target_rect().width() / c.canvas_size()
    for width in (8, 30):
        window.brush_slider.setValue(width)
        assert abs(c.brush_cursor_diameter() - width * scale) <= 1.5
        assert c.cursor().pixmap().width() >= c.brush_cursor_diameter()


# -- item 4: the shipped model -------------------------------------------------------------
def test_revert_to_the_shipped_model_asks_first_and_stays_in_open_recent(window, prompts, small_model):
    window.owner.set_model(small_model(4), unsaved=True)          # as a finished run leaves it
    assert "unsaved" in window.prediction.model_label.text()
    prompts.answers["ask_save"] = "cancel"
    assert not window.model_menu.revert_to_shipped()
    assert len(prompts.texts("ask_save")) == 1 and not window.owner.is_shipped()
    prompts.answers["ask_save"] = "discard"
    window.model_menu.act_revert.trigger()
    assert window.owner.is_shipped() and window.current_model().config.kernels == 32
    assert "shipped" in window.prediction.model_label.text()
    window.recent_menu.aboutToShow.emit()
    texts = [a.text().replace("&", "") for a in window.recent_menu.actions()]
    assert "The Shipped Model" in texts


# -- item 5: presets, one question at most -------------------------------------------------
def test_presets_set_their_network_and_ask_nothing(window, prompts):
    from engine.train.recipes import PRESETS
    panel = window.training_panel
    for name, preset in PRESETS.items():
        panel.apply_preset(name)
        s = panel.settings()
        assert (s.mode, s.config) == (preset.mode, preset.config)
    assert prompts.asked == []
    assert panel.form.settings().mode == "backprop"               # (Best shown last)


def test_start_asks_once_over_an_unsaved_model(window, prompts, gate, small_model, qtbot):
    panel = window.training_panel
    use_gated(panel, gate)
    panel.apply_settings(small_settings(epochs=1))
    window.owner.set_model(small_model(2), unsaved=True)
    prompts.answers["ask_save"] = "discard"
    with qtbot.waitSignal(panel.trainingStopped, timeout=TIMEOUT):
        assert panel.start()
        gate.open_all()
    assert len(prompts.asked) == 1


# -- items 7 and 8: units, and no stale plots -----------------------------------------------
def test_units_follow_the_mode_and_a_new_run_starts_with_empty_plots(window, gate, qtbot):
    panel = window.training_panel
    plots = panel.plots
    for p in (plots.error_plot, plots.accuracy_plot):
        assert not p.getPlotItem().getAxis("bottom").autoSIPrefix      # never "(x0.001)"
    made = use_gated(panel, gate)
    panel.apply_settings(small_settings(epochs=1, mode="backprop"))
    assert panel.form.widgets["epochs"].parentWidget().layout().labelForField(
        panel.form.widgets["epochs"]).text() == "Epochs"
    assert plots.kernels.image[..., 3].any()                     # the current model's kernels
    panel.start()
    assert not plots.kernels.image[..., 3].any()                 # not the previous run's
    assert plots.confusion is None
    assert plots.error_plot.getPlotItem().getAxis("bottom").labelText == "epoch"
    qtbot.waitUntil(lambda: bool(made), timeout=TIMEOUT)
    with qtbot.waitSignal(panel.trainingStopped, timeout=TIMEOUT):
        gate.open_all()
    assert "epoch" in panel.log.toPlainText().splitlines()[-1]


# -- item 9: views that read at a glance ----------------------------------------------------
def test_signed_views_are_centred_at_zero_with_colour_bars(window, qtbot):
    from app.reading.colormaps import HIGHLIGHT, SIGNED
    from app.reading.mosaic import KERNEL_CMAP, rgba_lut
    assert KERNEL_CMAP == SIGNED
    window.net_dock.raise_()
    draw_on(window, line(140, 50, 140, 230))
    qtbot.waitUntil(lambda: not window.net_view.empty, timeout=TIMEOUT)
    nv = window.net_view
    lo, hi = nv.maps_bar.levels()
    assert lo == pytest.approx(-hi) and hi > 0                   # symmetric: zero in the middle
    m = hi
    lut = rgba_lut(pg.colormap.get(SIGNED))
    from app.reading.mosaic import colourise
    assert np.array_equal(colourise(np.zeros(1), -m, m, lut)[0], lut[127])
    # the selected kernel: large, with values on hover; the winner view shows where it wins
    nv.select_kernel(2)
    d = nv.detail
    assert d.index == 2 and d.fmap.shape == nv.maps_shown[2].shape
    np.testing.assert_allclose(d.fmap, nv.maps_shown[2])
    qtbot.waitUntil(lambda: d.map_vb.sceneBoundingRect().width() > 10, timeout=TIMEOUT)
    centre = d.map_vb.mapViewToScene(QPointF(3.5, 5.5))
    text = d.describe_at(centre)
    assert text is not None and f"{nv.maps_shown[2][5, 3]:+.4f}" in text
    rgba = nv.winner_item.image
    wins = nv._winner == 2
    assert wins.any()
    won, lost = rgba[wins][:, :3].astype(int), rgba[~wins][:, :3].astype(int)
    assert (won[:, 0] > won[:, 2] + 60).all()                    # orange where it wins
    assert (lost[:, 0] == lost[:, 1]).all() and (lost[:, 1] == lost[:, 2]).all()   # grey elsewhere
    assert (won == HIGHLIGHT).all(axis=1).any()
    assert "kernel 3 wins" in nv.legend.text()


# -- item 10: themes -----------------------------------------------------------------------
def test_every_plot_follows_the_theme(window):
    try:
        for name, dark in (("dark", True), ("light", False)):
            window.theme_menu.set_theme(name)
            base = QApplication.instance().palette().color(QPalette.Base)
            assert (base.lightness() < 100) == dark
            views = window.findChildren(pg.GraphicsView)
            assert len(views) >= 10
            for v in views:
                assert v.backgroundBrush().color() == base, v
            text = QApplication.instance().palette().color(QPalette.Text)
            axis = window.training_panel.plots.error_plot.getPlotItem().getAxis("left")
            assert axis.textPen().color() == text
            assert window.theme_menu.theme_actions[name].isChecked()
            bars = window.prediction.bars.opts["brushes"]
            assert bars[0].color() == QApplication.instance().palette().color(QPalette.Mid)
            assert window.prefs.theme() == name
    finally:
        window.theme_menu.set_theme("system")


# -- item 11: help -------------------------------------------------------------------------
def test_the_guide_and_the_shortcuts_are_in_the_app(window):
    assert (ROOT / "resources" / "guide.md").read_text() == (ROOT / "docs" / "app.md").read_text()
    d = window.help_menu.show_guide()
    try:
        assert "Drawing" in d.browser.toPlainText() and "Ctrl+Z" in d.browser.toPlainText()
    finally:
        d.close()
    s = window.help_menu.show_shortcuts()
    try:
        rows = {s.table.item(i, 0).text(): s.table.item(i, 1).text() for i in range(s.table.rowCount())}
    finally:
        s.close()
    assert rows["Undo Stroke"] == window.act_undo.shortcut().toString()
    assert rows["Open Model"] == window.act_open.shortcut().toString()
    assert "Keyboard Shortcuts" in rows and "Redo" in rows


# -- item 12: preprocessing off, side by side -----------------------------------------------
def test_preprocessing_off_shows_both_inputs_and_both_readings(window, qtbot):
    draw_on(window, line(30, 30, 30, 110))                        # small, off-centre
    window.classify_now()
    assert not window.prediction.compare.isVisible()
    window.act_preprocess.setChecked(False)
    pv = window.prediction
    assert pv.compare.isVisible()
    img = window.canvas.image()
    np.testing.assert_allclose(pv.compare_pre_item.image, to_mnist(img, preprocess=True))
    np.testing.assert_allclose(pv.compare_raw_item.image, to_mnist(img, preprocess=False))
    assert pv.compare_pre_label.text().startswith("preprocessed: ")
    assert pv.compare_raw_label.text().startswith("as drawn: ")
    window.act_preprocess.setChecked(True)
    assert not pv.compare.isVisible()


# -- item 6: the status bar and View ▸ Reset Layout -------------------------------------------
def test_a_long_status_message_stops_short_of_the_model_label(window):
    bar = window.statusBar()
    text = "Stopped. " + "a very long summary of the run, " * 20
    bar.showMessage(text, 10000)
    shown = bar.currentMessage()
    room = bar.width() - window.status_model.width()
    assert shown != text and shown.endswith("…")
    assert bar.fontMetrics().horizontalAdvance(shown) < room
    assert bar.toolTip() == text                                  # the whole of it


def test_reset_layout_brings_every_dock_back(window, qtbot):
    window.train_dock.setFloating(True)
    window.explain_dock.close()
    window.net_dock.close()
    window.teach_dock.setFloating(True)
    window.act_reset_layout.trigger()
    for d in (window.net_dock, window.train_dock, window.explain_dock, window.teach_dock):
        assert d.isVisible() and not d.isFloating()
        assert window.dockWidgetArea(d) == Qt.RightDockWidgetArea
    assert set(window.tabifiedDockWidgets(window.net_dock)) == {window.train_dock, window.explain_dock,
                                                               window.teach_dock}
    assert window.prefs.geometry() is None and window.prefs.window_state() is None
