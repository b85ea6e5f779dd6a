"""Issue 19, the rough edges a new user hit, each tested by what the window shows
(offscreen, in this process; the screen-size cases are in test_rough_edges_layout.py)."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication

from app.train.run_jobs import RunRecorded
from engine.train.events import Progress

from tests.helpers import draw_on, line

from .conftest import GATE_TIMEOUT, small_settings, use_gated

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

    def in_epoch_2():
        if "epoch 2 of 3" in tp.label.text():
            return True
        gate.release(1)                   # (a progress report may be thinned out: one chunk more)
        return False
    qtbot.waitUntil(in_epoch_2, timeout=TIMEOUT)
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
    x = window.reading.input
    np.testing.assert_allclose(window.reading.forward.proba[0], window.current_model().forward_one(x).proba[0])
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


# -- edge 2: texts wrap instead of being cut -----------------------------------------------------
@pytest.mark.parametrize("width", [180, 260])
def test_the_verdict_and_the_comparison_labels_wrap_in_a_narrow_column(qtbot, window, width):
    from PySide6.QtWidgets import QLabel
    pv = window.prediction
    window.splitter.setSizes([window.splitter.width() - width, width])
    proba = np.full(10, 0.05)
    proba[3] = 0.55
    pv.update_prediction(proba, np.zeros((28, 28), np.float32), empty=False, verdict="not a digit")
    pv.show_comparison((np.zeros((28, 28)), proba), (np.zeros((28, 28)), proba[::-1]))
    labels = [pv.caption, pv.compare_title, pv.compare_pre_label, pv.compare_raw_label]

    def whole(label: QLabel) -> bool:
        fm = label.fontMetrics()
        words = max(fm.horizontalAdvance(w) for w in label.text().replace("<b>", "").replace("</b>", "").split())
        return (label.wordWrap() and words <= label.width()
                and label.height() >= label.heightForWidth(label.width()))
    qtbot.waitUntil(lambda: all(whole(lab) for lab in labels), timeout=TIMEOUT)
    assert pv.caption.text().startswith("not a digit (if it is one: 3, 55%)")


# -- edge 5: unavailable actions disabled, with the reason ---------------------------------------
def test_save_as_csv_is_disabled_for_a_model_with_biases_and_says_why(window, small_model):
    from engine.net.model import Config
    act = window.act_save_csv
    assert act.isEnabled()
    window.owner.set_model(small_model(1, config=Config(kernels=4, kernel_size=5, hidden=16, biases=True)))
    assert not act.isEnabled() and "biases" in act.toolTip() and "biases" in act.statusTip()
    window.owner.set_model(small_model(2))
    assert act.isEnabled() and "biases" not in act.toolTip()


def _in_the_folder_dialog(act) -> None:
    """Run ``act(dialog)`` on the folder dialog once it is open; whatever happens, no dialog
    is left open (a bounded wait: every visible dialog is closed after 10 s)."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QDialog

    def close_all():
        for d in QApplication.topLevelWidgets():
            if isinstance(d, QDialog) and d.isVisible():
                d.reject()

    def run():
        d = QApplication.activeModalWidget()
        if d is None:
            QTimer.singleShot(10, run)
            return
        try:
            act(d)
        finally:
            close_all()
    QTimer.singleShot(0, run)
    QTimer.singleShot(10_000, close_all)


def test_the_csv_folder_dialog_takes_the_name_of_a_new_folder(qtbot, tmp_path):
    """Edge 5: typing a new folder's name in File ▸ Save Model as CSV Folder…'s dialog
    chooses it (Qt's folder dialog greyed its button out and said "Directory not found");
    the dialog makes no folder itself; an existing folder is chosen as before."""
    from PySide6.QtWidgets import QDialogButtonBox, QLineEdit
    from app.prompts import Prompts
    (tmp_path / "old").mkdir()
    seen = []

    def type_and_save(name):
        def act(d):
            d.findChild(QLineEdit, "fileNameEdit").setText(name)
            button = d.findChild(QDialogButtonBox).button(QDialogButtonBox.Open)
            seen.append((button.text(), button.isEnabled()))
            button.click()
        return act
    for name in ("new csv", "old"):
        _in_the_folder_dialog(type_and_save(name))
        chosen = Prompts().save_folder("Folder for the CSV files", str(tmp_path))
        assert chosen == str(tmp_path / name)
    assert seen == [("&Save", True), ("&Save", True)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old"]
    _in_the_folder_dialog(type_and_save("no such/folder"))     # a new folder in one that is not there
    assert Prompts().save_folder("Folder for the CSV files", str(tmp_path)) == ""
    assert seen[-1] == ("&Save", False)


def test_save_as_csv_into_a_new_folder_makes_it_and_a_failed_save_leaves_none(window, prompts, tmp_path,
                                                                              monkeypatch):
    """Edge 5: the name of a folder not made yet: the CSV files are written into the new
    folder; a save that fails (a CSV file over the size limit) says why and leaves no new
    folder behind, the model still unsaved in the window."""
    from engine.files import modelfile
    target = tmp_path / "new" / "trio"
    prompts.answers["save_folder"] = str(target)
    assert window.model_files.save_csv_dialog()
    assert sorted(p.name for p in target.iterdir()) == ["digitlab.json", "kernels.csv", "weights_01.csv",
                                                        "weights_12.csv"]
    assert not prompts.texts("error") and window.model_path() == str(target)
    m = window.current_model().copy()
    window.owner.set_model(m, unsaved=True)
    monkeypatch.setattr(modelfile, "MAX_CSV_BYTES", 100)
    prompts.answers["save_folder"] = str(tmp_path / "other" / "trio")
    assert not window.model_files.save_csv_dialog()
    assert "more than the" in prompts.texts("error")[0] and "save it as a .npz file" in prompts.texts("error")[0]
    assert not (tmp_path / "other").exists() and window.is_model_unsaved()
    prompts.answers["save_folder"] = str(tmp_path / "model.npz")      # a file's name, not a folder
    assert not window.model_files.save_csv_dialog()
    assert ".npz name is not a folder" in prompts.texts("error")[-1] and not (tmp_path / "model.npz").exists()


# -- edge 7: the title follows the model ---------------------------------------------------------
def test_the_title_names_the_file_after_save_as_and_each_part_once(window, prompts, tmp_path):
    prompts.answers["save_file"] = str(tmp_path / "mine.npz")
    assert window.model_files.save_dialog()
    assert window.windowTitle().startswith("mine.npz")
    m = window.current_model().copy()
    m.name = "shipped model + my handwriting + my handwriting"
    window.owner.set_model(m, unsaved=True)
    assert window.windowTitle().count("my handwriting") == 1


# -- edge 9 (and every label): readable in both themes --------------------------------------------
def _luminance(c) -> float:
    def ch(v):
        v /= 255.0
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
    return 0.2126 * ch(c.red()) + 0.7152 * ch(c.green()) + 0.0722 * ch(c.blue())


def _contrast(a, b) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_your_digit_on_the_looks_like_map_and_every_label_are_readable(qtbot, window, theme):
    """The "your 7" label of Why? ▸ Looks like… (black on near-black in the dark theme) and
    every label of the window stand out from their background (contrast ratio at least 4.5)."""
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QLabel
    window.theme_menu.set_theme(theme, remember=False)
    hm = window.explain_panel.map_view
    hm.set_drawing(np.array([0.0, 0.0]), "your 7")
    window.theme_menu.set_theme("dark" if theme == "light" else "light", remember=False)
    window.theme_menu.set_theme(theme, remember=False)          # changed after the label was set
    QApplication.processEvents()
    bg = hm.backgroundBrush().color()
    assert _contrast(hm.label.color, bg) >= 4.5, (hm.label.color.name(), bg.name())
    for label in window.findChildren(QLabel):
        if not label.isVisible() or not label.text().strip():
            continue
        pal = label.palette()
        fg = pal.color(label.foregroundRole())
        back = pal.color(label.backgroundRole())
        assert _contrast(fg, back) >= 4.5, (label.text(), fg.name(), back.name())


# -- edges 8 and 12: the errors' gallery ---------------------------------------------------------
def _gallery(qtbot, window, cell=None):
    from app.history.error_gallery import TestSet
    rng = np.random.default_rng(0)
    imgs = rng.random((30, 28, 28)).astype(np.float32) ** 3
    labels = np.arange(30) % 10
    window.gallery_wiring.run_test = TestSet(imgs, labels, imgs, True, "random images")
    g = window.gallery_wiring.open(cell)
    qtbot.addWidget(g)
    qtbot.waitUntil(g.is_ready, timeout=TIMEOUT)
    return g, imgs, labels


def test_where_does_it_fail_lists_only_the_pairs_that_hold_images(qtbot, window):
    g, imgs, labels = _gallery(qtbot, window)
    items = [g.cell_box.itemText(k) for k in range(g.cell_box.count())]
    assert len(items) == np.count_nonzero(g.confusion) < 100
    assert not any(t.endswith(": 0 images") for t in items)
    assert all(not t.endswith(" 1 images") for t in items)
    empty = next((i, j) for i in range(10) for j in range(10) if g.confusion[i, j] == 0)
    g.show_cell(*empty)                       # (an empty cell of the matrix clicked: said so)
    assert g.cell() == empty and g.grid.count() == 0 and g.note.text().startswith("0 test images")


def test_a_gallery_image_reads_on_the_canvas_as_in_the_gallery(qtbot, window):
    """The image the gallery says is read as 7 with 44% reads the same on the canvas (no
    preprocessing again, no "not a digit"), and the status bar says why; drawn on, it is a
    drawing again."""
    g, imgs, labels = _gallery(qtbot, window)
    true, read = g.cell()
    g.choose(0)
    k = int(g.shown[0])
    assert window.prediction.digit.text() == str(read)
    np.testing.assert_allclose(window.reading.proba, g.proba[k], atol=1e-5)
    caption = window.prediction.caption.text()
    assert "not a digit" not in caption and f"{100 * g.proba[k, read]:.0f}%" in caption
    assert "as the gallery read it" in window.statusBar().currentMessage()
    draw_on(window, line(20, 20, 60, 60))
    qtbot.waitUntil(lambda: window.reader.exact_input is None, timeout=TIMEOUT)


# -- edge 13: an offline download's error stays inside the progress bar ---------------------------
def test_a_failed_download_says_so_in_one_line_that_fits_the_bar(qtbot, window, monkeypatch):
    from engine.files import data as edata

    def offline(progress=None, **kw):
        raise edata.DownloadError("downloading https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
                                  "mnist.npz failed: <urlopen error [Errno -3] Temporary failure in name "
                                  "resolution>\n(no network?)")
    monkeypatch.setattr(edata, "download_keras", offline)
    panel = window.training_panel
    window.train_dock.raise_()
    with qtbot.waitSignal(panel.trainingStopped, timeout=TIMEOUT):
        panel.download_mnist()
    bar = panel.progress_bar
    text = bar.text()
    assert "\n" not in text and "failed" in text
    assert bar.fontMetrics().horizontalAdvance(text) <= bar.width()
    assert "name resolution" in bar.toolTip() and "name resolution" in panel.log.toPlainText()


# -- edges 10 and 11: the confusion matrix's counts, legends, a one-point axis, colour bars -------
@pytest.mark.parametrize("side", [240, 420])
def test_four_digit_counts_stay_inside_their_cells(qtbot, window, side):
    from engine.train.record import TestFigures
    plots = window.training_panel.plots
    window.train_dock.raise_()
    plots.confusion_plot.setFixedSize(side, side + 30)
    c = np.diag([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]).astype(float) + 3
    plots.add_test(0, TestFigures(0.1, 90.0, 91.0, confusion=c))
    qtbot.waitUntil(lambda: plots.cell_pixels() > 0, timeout=TIMEOUT)
    QApplication.processEvents()
    cell = plots.cell_pixels()
    for t in plots.confusion_texts:
        if t.isVisible() and t.text():
            assert t.boundingRect().width() <= cell, (t.text(), t.boundingRect().width(), cell)
    title = plots.confusion_plot.getPlotItem().titleLabel
    assert title.boundingRect().width() <= plots.confusion_plot.width()


def test_legends_are_below_the_curves_and_one_test_point_has_a_readable_axis(qtbot, window):
    from engine.train.record import TestFigures
    plots = window.training_panel.plots
    for plot in (plots.error_plot, plots.accuracy_plot):
        pi = plot.getPlotItem()
        legend, vb = pi.legend, pi.getViewBox()
        assert legend.sceneBoundingRect().top() >= vb.sceneBoundingRect().bottom() - 1   # not over the data
    plots.add_test(0, TestFigures(0.66, 33.9, 34.1))
    lo, hi = plots.accuracy_plot.getPlotItem().getViewBox().viewRange()[1]
    assert hi - lo >= 3.9 and lo <= 33.9 and hi >= 34.1                 # not 33.6 .. 34.4


def test_the_selected_kernels_colour_bars_do_not_overlap(qtbot, window):
    window.net_dock.raise_()
    nv = window.net_view
    qtbot.waitUntil(nv.isVisible, timeout=TIMEOUT)
    draw_on(window, line(140, 40, 140, 240))
    qtbot.waitUntil(lambda: window.reading.proba is not None, timeout=TIMEOUT)
    nv.select_kernel(0)
    dv = nv.detail
    top, bottom = dv.kernel_bar.sceneBoundingRect(), dv.map_bar.sceneBoundingRect()
    label = dv.fontMetrics().height()
    assert bottom.top() - top.bottom() >= label * 0.9, (top, bottom)


# -- edge 14: the Guide starts with a quick start and its contents, no developer detail -----------
def test_the_guide_opens_on_a_quick_start_and_a_contents_list(window):
    d = window.help_menu.show_guide()
    try:
        text = d.browser.toPlainText()
    finally:
        d.close()
    head = text[:1500]
    assert "Quick start" in head and "Contents" in head
    assert head.index("Quick start") < head.index("Contents") < text.index("Drawing\n")
    for dev in ("python -m", "app.launcher", "resources/model.npz", "compiled loops", "engine.",
                "benchmarks/", "QT_QPA_PLATFORM=offscreen", "For developers"):
        assert dev not in text, dev
