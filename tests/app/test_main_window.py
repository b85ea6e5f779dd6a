"""The main window: live classification, the net view, models, settings, closing."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from engine.files import modelfile
from engine.net.model import Config, Model
from engine.net.preprocess import centre_of_mass, to_mnist

from .conftest import small_settings, use_gated
from tests.helpers import draw_on, line

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 20000


# -- classification ---------------------------------------------------------------------
def test_drawing_updates_prediction_and_views(window, qtbot):
    assert window.reading.proba is None                   # nothing drawn yet
    draw_on(window, line(140, 50, 140, 230))
    qtbot.waitUntil(lambda: window.reading.proba is not None, timeout=2000)
    p = window.reading.proba
    assert p.shape == (10,) and p.sum() == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_allclose(window.reading.input, to_mnist(window.canvas.image()))
    np.testing.assert_allclose(window.prediction.bars.opts["height"], p, rtol=1e-6)
    assert window.prediction.digit.text() == str(int(np.argmax(p)))
    np.testing.assert_allclose(window.prediction.input_item.image, window.reading.input)
    nv = window.net_view
    np.testing.assert_allclose(nv.maps_shown[3], window.reading.forward.maps[0][3], rtol=1e-6)
    cell = nv.map_cells[3]
    band = nv.maps.geom[4]
    shown = nv.maps_item.image[int(cell.top()) + band:int(cell.bottom()), int(cell.left()):int(cell.right())]
    assert shown.shape == (21, 21, 4) and len(np.unique(shown.reshape(-1, 4), axis=0)) > 5
    d = int(np.argmax(p))
    assert window.training_panel.probe_label.text().startswith(f"drawing: {d} (")
    first = p.copy()
    draw_on(window, line(60, 60, 220, 60))
    qtbot.waitUntil(lambda: not np.allclose(window.reading.proba, first), timeout=2000)
    window.act_clear.trigger()
    qtbot.waitUntil(lambda: window.reading.proba is None, timeout=2000)
    assert window.prediction.digit.text().strip() == ""
    assert "–" in window.training_panel.probe_label.text()


def test_preprocessing_toggle(window):
    draw_on(window, line(30, 30, 80, 30))                # small, in a corner
    window.classify_now()
    assert abs(centre_of_mass(window.reading.input)[1] - 14) <= 0.5
    window.preprocess_box.setChecked(False)
    assert not window.act_preprocess.isChecked()
    np.testing.assert_allclose(window.reading.input, to_mnist(window.canvas.image(), preprocess=False))
    assert centre_of_mass(window.reading.input)[0] < 5      # stays in the corner


def test_not_sure_when_best_probability_is_low(window):
    window.prediction.update_prediction(np.full(10, 0.1), np.zeros((28, 28)), empty=False)
    assert "not sure" in window.prediction.caption.text()
    p = np.full(10, 0.01)
    p[7] = 0.91
    window.prediction.update_prediction(p, np.zeros((28, 28)), empty=False)
    assert window.prediction.digit.text() == "7" and "not sure" not in window.prediction.caption.text()


def test_clicking_a_kernel_highlights_it(window, qtbot):
    nv = window.net_view
    window.net_dock.raise_()
    qtbot.waitUntil(lambda: nv.kernels_widget.isVisible(), timeout=2000)
    view = nv.kernels_widget
    pos = view.mapFromScene(nv.kernel_cell_center(4))
    QTest.mouseClick(view.viewport(), Qt.LeftButton, Qt.NoModifier, pos)
    qtbot.waitUntil(lambda: nv.selected_kernel() == 4, timeout=2000)
    assert nv.kernels_frame.isVisible() and nv.kernels_frame.rect().contains(nv.kernel_cells[4].center())
    assert nv.maps_frame.isVisible()
    QTest.mouseClick(view.viewport(), Qt.LeftButton, Qt.NoModifier, pos)
    qtbot.waitUntil(lambda: nv.selected_kernel() == -1, timeout=2000)
    assert not nv.maps_frame.isVisible() and not nv.kernels_frame.isVisible()
    mpos = nv.maps_widget.mapFromScene(nv.map_cell_center(2))
    QTest.mouseClick(nv.maps_widget.viewport(), Qt.LeftButton, Qt.NoModifier, mpos)
    qtbot.waitUntil(lambda: nv.selected_kernel() == 2, timeout=2000)


def test_grids_follow_the_architecture(window, tmp_path, small_model):
    path = tmp_path / "small.npz"
    modelfile.save_model(small_model(1, Config(kernels=4, kernel_size=5, hidden=20)), path)
    assert window.open_model(path)
    nv = window.net_view
    assert len(nv.kernel_cells) == 4 and len(nv.map_cells) == 4 and nv.map_cells[0].width() == 24
    assert nv.pooled_shown.shape == (24, 24) and nv.kernels_shown.shape == (4, 5, 5)


def test_the_drawing_is_read_once_per_snapshot_and_never_with_the_arrays_in_training(
        window, qtbot, gate, monkeypatch):
    """Issue 9, item 1 (app side): while a run trains, the window reads the drawing with the
    snapshot copies only, once each; no model call ever touches the arrays in training."""
    panel = window.training_panel
    made = use_gated(panel, gate, size=100, chunk=10)
    panel.apply_settings(small_settings(epochs=1))
    draw_on(window, line(140, 50, 140, 230))
    window.classify_now()
    calls = []
    see, proba = Model.forward_one, Model.predict_proba
    monkeypatch.setattr(Model, "forward_one", lambda self, x: calls.append(("see", self)) or see(self, x))
    monkeypatch.setattr(Model, "predict_proba", lambda self, x: calls.append(("proba", self)) or proba(self, x))
    panel.start()
    qtbot.waitUntil(lambda: bool(made), timeout=TIMEOUT)
    reads = lambda: [m for k, m in calls if k == "see"]       # noqa: E731 - the window's readings
    for i in range(1, 4):
        gate.release()
        qtbot.waitUntil(lambda: len(reads()) >= i, timeout=TIMEOUT)
    assert len(reads()) == 3 and len({id(m) for m in reads()}) == 3    # once per snapshot
    trained = made[0].model
    for _, m in calls:
        assert m is not trained and not np.shares_memory(m.params["K"], trained.params["K"])
    with qtbot.waitSignal(panel.trainingStopped, timeout=TIMEOUT):
        gate.open_all()


def test_one_kernel_renderer_for_the_net_view_and_the_train_dock(window):
    window.net_dock.raise_()
    window.classify_now()
    window.net_view.update_views(window.current_model(), window.reading.forward)
    shown = window.net_view.kernels.image
    assert shown is not None and np.array_equal(shown, window.training_panel.plots.kernels.image)


# -- models: open, save, errors ---------------------------------------------------------
def test_a_bad_file_shows_an_error_and_keeps_the_model(window, tmp_path, prompts):
    before = window.current_model()
    bad = tmp_path / "broken.npz"
    bad.write_bytes(b"this is not a model")
    assert not window.open_model(bad)
    assert "broken.npz" in prompts.texts("error")[0] and window.current_model() is before
    assert not window.open_model(tmp_path / "missing.npz")
    assert "missing.npz" in prompts.texts("error")[1] and window.current_model() is before


def test_a_model_that_loads_but_cannot_read_a_drawing_is_refused(window, tmp_path, prompts,
                                                                 monkeypatch, small_model):
    """Issue 9, item 4 (app side): switching is all or nothing."""
    before = window.current_model()
    broken = small_model(3)
    broken.params["W2"] = broken.params["W2"][:, :7]        # seven classes: cannot be shown
    monkeypatch.setattr(modelfile, "load_model", lambda path: broken)
    assert not window.open_model(tmp_path / "seven.npz")
    assert "seven.npz" in prompts.texts("error")[0]
    assert window.current_model() is before and window.reading.forward.proba.shape == (1, 10)


def test_open_and_save_round_trip_through_the_menus(window, tmp_path, prompts, small_model):
    prompts.answers["save_file"] = str(tmp_path / "saved")        # no suffix: .npz is added
    window.act_save.trigger()
    saved = tmp_path / "saved.npz"
    assert saved.exists() and not prompts.texts("error") and window.model_path() == str(saved)
    original = window.current_model()
    window.owner.set_model(small_model(5))
    prompts.answers["open_file"] = str(saved)
    window.act_open.trigger()
    for key, value in original.params.items():
        np.testing.assert_array_equal(window.current_model().params[key], value)
    assert "saved.npz" in window.windowTitle()           # the title names the file opened
    assert window.recent_files()[0] == str(saved)
    folder = tmp_path / "csv"
    prompts.answers["save_folder"] = prompts.answers["folder"] = str(folder)
    window.act_save_csv.trigger()
    assert (folder / "kernels.csv").exists() and not prompts.texts("error")
    window.owner.set_model(small_model(6))
    window.act_open_csv.trigger()
    np.testing.assert_allclose(window.current_model().params["K"], original.params["K"])


def test_cancelled_dialogs_do_nothing(window, prompts):
    before = window.current_model()
    window.act_open.trigger()
    window.act_save.trigger()
    assert window.current_model() is before and prompts.kinds() == ["open_file", "save_file"]


def test_open_asks_before_discarding_an_unsaved_model(window, tmp_path, prompts, small_model):
    """Issue 9, item 2."""
    path = tmp_path / "other.npz"
    modelfile.save_model(small_model(2), path)
    trained = small_model(8)
    window.owner.set_model(trained, unsaved=True)
    prompts.answers["ask_save"] = "cancel"
    assert not window.open_model(path)
    assert window.current_model() is trained and window.is_model_unsaved()
    assert prompts.kinds() == ["ask_save"]
    prompts.answers["ask_save"] = "discard"
    assert window.open_model(path) and not window.is_model_unsaved()


def test_open_is_disabled_while_a_run_trains(window, qtbot, gate, tmp_path, prompts, small_model):
    """Issue 9, item 2: a run would replace the opened model when it ends."""
    panel = window.training_panel
    use_gated(panel, gate, size=100, chunk=10)
    panel.apply_settings(small_settings(epochs=1))
    panel.start()
    assert not window.act_open.isEnabled() and not window.act_open_csv.isEnabled()
    assert not window.recent_menu.menuAction().isEnabled()
    path = tmp_path / "other.npz"
    modelfile.save_model(small_model(2), path)
    assert not window.open_model(path) and "stop it" in prompts.texts("error")[0]
    with qtbot.waitSignal(panel.trainingStopped, timeout=TIMEOUT):
        gate.open_all()
    assert window.act_open.isEnabled()


def test_saving_asks_before_replacing_a_file_the_dialog_did_not_check(window, tmp_path, prompts):
    """Issue 9, item 8: typing "m" writes m.npz: ask if it exists."""
    target = tmp_path / "m.npz"
    target.write_bytes(b"precious")
    prompts.answers["save_file"] = str(tmp_path / "m")
    prompts.answers["confirm"] = False
    window.act_save.trigger()
    assert target.read_bytes() == b"precious" and "m.npz already exists" in prompts.texts("confirm")[0]
    prompts.answers["confirm"] = True
    window.act_save.trigger()
    assert target.read_bytes() != b"precious" and window.model_path() == str(target)


def test_saving_as_csv_asks_before_replacing_a_trio(window, tmp_path, prompts):
    """Issue 9, item 8."""
    folder = tmp_path / "trio"
    folder.mkdir()
    (folder / "kernels.csv").write_text("precious")
    prompts.answers["save_folder"] = str(folder)
    prompts.answers["confirm"] = False
    window.act_save_csv.trigger()
    assert (folder / "kernels.csv").read_text() == "precious"
    assert "kernels.csv" in prompts.texts("confirm")[0]
    prompts.answers["confirm"] = True
    window.act_save_csv.trigger()
    assert (folder / "kernels.csv").read_text() != "precious"


# -- settings ---------------------------------------------------------------------------
def test_bad_values_in_the_settings_file_fall_back_to_defaults(qtbot, settings, prompts, small_model):
    """Issue 9, item 11."""
    from app.main_window import MainWindow
    from app.reading.canvas import DEFAULT_BRUSH_WIDTH
    settings.setValue("brushWidth", "thick")
    settings.setValue("preprocess", "maybe")
    settings.setValue("geometry", "not bytes")
    settings.setValue("lastDir", 42)
    w = MainWindow(model=small_model(), settings=settings, prompts=prompts)
    qtbot.addWidget(w)
    assert w.canvas.brush_width() == DEFAULT_BRUSH_WIDTH and w.preprocess_box.isChecked()
    settings.setValue("brushWidth", "1e9")
    assert w.prefs.brush_width(DEFAULT_BRUSH_WIDTH) == 60


def test_recent_files_drop_missing_ones_and_are_capped(window, tmp_path, small_model):
    """Issue 9, item 11."""
    from app.preferences import MAX_RECENT
    paths = []
    for i in range(MAX_RECENT + 3):
        p = tmp_path / f"m{i}.npz"
        modelfile.save_model(small_model(i), p)
        paths.append(str(p))
        assert window.open_model(p)
    assert window.recent_files() == paths[::-1][:MAX_RECENT]
    Path(paths[-1]).unlink()
    assert window.recent_files() == paths[::-1][1:MAX_RECENT]
    window.recent_menu.aboutToShow.emit()
    texts = [a.text() for a in window.recent_menu.actions()]
    assert not any(paths[-1] in t for t in texts) and any(paths[-2] in t for t in texts)


def test_the_untrained_fallback_is_announced(qtbot, settings, monkeypatch, prompts):
    import engine
    from app.main_window import MainWindow

    def missing(path=None):
        raise FileNotFoundError("no shipped model here")
    monkeypatch.setattr(engine, "load_model", missing)
    w = MainWindow(settings=settings, prompts=prompts)
    qtbot.addWidget(w)
    assert "UNTRAINED" in w.statusBar().currentMessage() and w.current_model().name == "untrained"


@pytest.mark.skipif(not (ROOT / "resources" / "model.npz").exists(), reason="no shipped model")
def test_the_shipped_model_loads_at_start_and_reads_a_drawn_one(qtbot, settings, prompts):
    from app.main_window import MainWindow
    w = MainWindow(settings=settings, prompts=prompts)
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    qtbot.waitExposed(w)
    assert w.owner.is_shipped() and "%" in w.windowTitle()
    draw_on(w, [(120, 60), (150, 40), (150, 230)])
    w.classify_now()
    assert int(np.argmax(w.reading.proba)) == 1
    # the bars show engine.read's probabilities: for this model trained with augmentation, the
    # mean over the drawing and its distortions, not the drawing's forward pass alone
    import engine
    r = w.reader.last
    expected = engine.read(r.model, r.input).proba[0]
    np.testing.assert_allclose(r.proba, expected, rtol=1e-6)
    assert not np.allclose(r.proba, r.forward.proba[0])
    np.testing.assert_allclose(w.prediction.bars.opts["height"], expected, rtol=1e-5)


def test_about_text_lists_versions():
    import PySide6
    from app.frame.help import about_text
    text = about_text()
    for word in ("Python", "Qt", "PySide6", PySide6.__version__, "pyqtgraph", "NumPy", "Digitlab"):
        assert word in text


# -- closing ----------------------------------------------------------------------------
def test_close_with_an_unsaved_model_asks(window, prompts, small_model):
    window.owner.set_model(small_model(9), unsaved=True)
    prompts.answers["ask_save"] = "cancel"
    window.close()
    assert prompts.kinds() == ["ask_save"] and window.isVisible()
    prompts.answers["ask_save"] = "discard"
    window.close()
    assert not window.isVisible()


def test_close_remembers_geometry_and_options(window, settings):
    window.preprocess_box.setChecked(False)
    window.close()
    settings.sync()
    assert settings.value("geometry") is not None
    assert settings.value("preprocess", True, type=bool) is False


def test_closing_during_training_asks_first_and_cancel_keeps_the_run(window, qtbot, gate, prompts):
    """Issue 9, item 3."""
    panel = window.training_panel
    made = use_gated(panel, gate, size=1000, chunk=10)
    panel.apply_settings(small_settings(epochs=1))
    panel.start()
    gate.release(2)
    qtbot.waitUntil(lambda: bool(made) and made[0].chunks == 2, timeout=TIMEOUT)
    prompts.answers["ask_save"] = "cancel"
    window.close()
    assert window.isVisible() and panel.is_training() and prompts.kinds() == ["ask_save"]
    gate.release(2)
    qtbot.waitUntil(lambda: made[0].chunks == 4, timeout=TIMEOUT)       # it trains on
    prompts.answers["ask_save"] = "save"
    prompts.answers["save_file"] = ""                  # ... then the save dialog is cancelled
    gate.open_all()
    window.close()
    assert window.isVisible() and not panel.is_busy()     # stopped, the model kept, not lost
    assert window.current_model() is made[0].model and window.is_model_unsaved()
    with qtbot.waitSignal(panel.trainingStopped, timeout=TIMEOUT):     # the panel trains again
        assert panel.step()
    prompts.answers["ask_save"] = "discard"
    window.close()
    assert not window.isVisible()


def test_closing_never_waits_forever_for_a_thread_that_cannot_stop(window, qtbot, gate, prompts):
    """Issue 9, item 12: a first compile (here: a stepper that is slow to build) cannot be
    interrupted; Stop says it is stopping, closing waits a bounded time and quits."""
    panel = window.training_panel
    use_gated(panel, gate)
    entered = threading.Event()

    def stuck(model, data, settings):
        entered.set()
        gate.wait()                        # ignores the stop flag
        raise RuntimeError("not reached in time")

    panel.stepper_factory = stuck
    panel.apply_settings(small_settings(epochs=1))
    panel.start()
    assert entered.wait(20)
    panel.stop()
    assert panel.progress_bar.format() == "stopping…"
    window.stop_wait_seconds = 0.05
    prompts.answers["ask_save"] = "discard"
    window.close()
    assert not window.isVisible()
    assert "did not stop within" in prompts.texts("note")[0]
    assert panel.worker.is_running()       # never forced: released below, then it ends
    gate.open_all()
    assert panel.worker.wait(20)


STUCK_APP = """
import sys, threading
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication
from app.main_window import MainWindow, run
from tests.helpers import NoPrompts
from tests.app.conftest import small_settings, synthetic_data

app = QApplication([])
w = MainWindow(settings=QSettings(sys.argv[1], QSettings.IniFormat), prompts=NoPrompts())
w.stop_wait_seconds = 0.2
panel = w.training_panel
entered = threading.Event()

def stuck(model, data, settings):
    entered.set()
    threading.Event().wait()           # never returns, ignores every stop flag

panel.data_override = synthetic_data()
panel.stepper_factory = stuck
panel.apply_settings(small_settings(epochs=1))

def close_once_stuck():
    if entered.is_set():
        w.close()
    else:
        QTimer.singleShot(10, close_once_stuck)

QTimer.singleShot(0, lambda: panel.start() and close_once_stuck())
sys.exit(run(window=w))
"""


def test_quitting_with_a_thread_that_never_stops_exits_cleanly(tmp_path):
    """Issue 9, item 12, in a real process: closing says so and the process exits with
    status 0 and its settings saved, never aborted by Qt for a running thread."""
    ini = tmp_path / "settings.ini"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen",
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, "-c", STUCK_APP, str(ini)], env=env, cwd=str(ROOT),
                       capture_output=True, text=True, timeout=120)
    assert "Destroyed while thread" not in r.stderr
    assert r.returncode == 0, r.stderr
    assert "did not stop within" in r.stdout
    assert "geometry" in ini.read_text()
