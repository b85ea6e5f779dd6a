"""The desktop app, offscreen: drawing, live classification, models, closing, launcher."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest

pytest.importorskip("pytestqt")
from PySide6.QtCore import QPoint, QPointF, QSettings, Qt   # noqa: E402
from PySide6.QtTest import QTest                             # noqa: E402
from PySide6.QtWidgets import QFileDialog                     # noqa: E402

from app.canvas import DrawingCanvas                         # noqa: E402
from app.launcher import NO_DISPLAY_MESSAGE, has_display     # noqa: E402
from engine.model import Config, Model                       # noqa: E402
from engine.preprocess import centre_of_mass, ink_box, to_mnist   # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def drag(widget, points, button=Qt.LeftButton):
    """Press at the first point, move through the others, release at the last (widget pixels)."""
    pts = [QPoint(int(x), int(y)) for x, y in points]
    QTest.mousePress(widget, button, Qt.NoModifier, pts[0])
    for p in pts[1:]:
        QTest.mouseMove(widget, p)
    QTest.mouseRelease(widget, button, Qt.NoModifier, pts[-1])


def line(x0, y0, x1, y1, n=12):
    return [(x0 + (x1 - x0) * t, y0 + (y1 - y0) * t) for t in np.linspace(0, 1, n)]


@pytest.fixture
def canvas(qtbot):
    c = DrawingCanvas()
    qtbot.addWidget(c)
    c.resize(280, 280)
    c.show()
    qtbot.waitExposed(c)
    return c


@pytest.fixture
def settings(tmp_path):
    s = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    yield s
    s.sync()


def small_model(seed=0, config=Config()):
    m = Model.article_init(config, np.random.RandomState(seed))
    m.name = f"test{seed}"
    return m


@pytest.fixture
def window(qtbot, settings):
    from app.main_window import MainWindow
    w = MainWindow(model=small_model(), settings=settings)
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    qtbot.waitExposed(w)
    w._ask_save_changes = lambda: "discard"     # never block on a dialog at teardown
    return w


# -- the canvas ------------------------------------------------------------------------
def test_vertical_stroke_gives_centred_bar(canvas):
    drag(canvas, line(140, 50, 140, 230))
    img = canvas.image()
    assert img.shape == (280, 280) and img.dtype == np.float32
    assert 0.0 <= img.min() and img.max() == 1.0
    top, bottom, left, right = ink_box(img, 0.5)
    w = canvas.brush_width()
    assert abs(top - (50 - w / 2)) <= 2 and abs(bottom - (230 + w / 2)) <= 2   # round caps
    assert abs((left + right) / 2 - 140) <= 1 and abs((right - left) - w) <= 2
    x = to_mnist(img)
    t, b, l, r = ink_box(x, 0.05)
    assert b - t == 20 and 1 <= r - l <= 4              # a thin upright bar, 20 pixels high
    cy, cx = centre_of_mass(x)
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5


def test_strokes_are_smooth_and_antialiased(canvas):
    drag(canvas, [(60, 60), (140, 200), (220, 60)])    # a V: a sharp turn at the bottom
    img = canvas.image()
    grey = ((img > 0.05) & (img < 0.95)).sum()
    assert grey > 50                                   # anti-aliased edges
    # the interpolation connects the three events: ink all along both arms
    for t in np.linspace(0.1, 0.9, 9):
        x, y = 60 + 80 * t, 60 + 140 * t
        assert img[int(y), int(x)] > 0.5


def test_right_button_erases_undo_and_clear(canvas, qtbot):
    drag(canvas, line(40, 140, 240, 140))
    assert canvas.image()[140, 140] == 1.0
    drag(canvas, line(140, 100, 140, 180), button=Qt.RightButton)
    assert canvas.image()[140, 140] == 0.0 and canvas.image()[140, 60] == 1.0
    with qtbot.waitSignal(canvas.imageChanged):
        QTest.keyClick(canvas, Qt.Key_Z, Qt.ControlModifier)     # undo the erasing
    assert canvas.image()[140, 140] == 1.0
    assert len(canvas.strokes()) == 1
    canvas.undo()
    assert not canvas.image().any() and canvas.is_empty()
    drag(canvas, line(40, 140, 240, 140))
    QTest.keyClick(canvas, Qt.Key_Escape)
    assert not canvas.image().any()
    drag(canvas, line(40, 140, 240, 140))
    QTest.keyClick(canvas, Qt.Key_Delete)
    assert not canvas.image().any()


def test_brush_width_changes_thickness(canvas):
    canvas.set_brush_width(8)
    drag(canvas, line(40, 100, 240, 100))
    canvas.set_brush_width(30)
    drag(canvas, line(40, 200, 240, 200))
    img = canvas.image()
    assert abs((img[:, 140][80:120] > 0.5).sum() - 8) <= 1
    assert abs((img[:, 140][170:230] > 0.5).sum() - 30) <= 1


def test_canvas_stays_square_when_resized(canvas, qtbot):
    canvas.resize(600, 400)
    r = canvas.target_rect()
    assert r.width() == r.height() == 400
    # drawing still lands in the right place on the backing image
    canvas.clear()
    drag(canvas, [(r.x() + r.width() / 2, r.y() + 40), (r.x() + r.width() / 2, r.y() + 360)])
    img = canvas.image()
    assert img[140, 140] == 1.0 and img[140, 60] == 0.0


def test_image_changed_fires_during_a_stroke(canvas, qtbot):
    seen = []
    canvas.imageChanged.connect(lambda: seen.append(canvas.image()[140].max()))
    QTest.mousePress(canvas, Qt.LeftButton, Qt.NoModifier, QPoint(40, 140))
    QTest.mouseMove(canvas, QPoint(120, 140))
    QTest.mouseMove(canvas, QPoint(200, 140))
    assert len(seen) >= 3 and seen[-1] == 1.0          # before the button is released
    QTest.mouseRelease(canvas, Qt.LeftButton, Qt.NoModifier, QPoint(200, 140))


# -- the window: classification --------------------------------------------------------
def test_drawing_updates_prediction_and_views(window, qtbot):
    assert window.last_proba is None                   # nothing drawn yet
    c = window.canvas
    r = c.target_rect()
    k = r.width() / 280
    pts = [(r.x() + x * k, r.y() + y * k) for x, y in line(140, 50, 140, 230)]
    drag(c, pts)
    qtbot.waitUntil(lambda: window.last_proba is not None, timeout=2000)
    p = window.last_proba
    assert p.shape == (10,) and p.sum() == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_allclose(window.last_input, to_mnist(c.image()))
    # the views show this drawing: bars, digit, network input, feature maps
    np.testing.assert_allclose(window.prediction.bars.opts["height"], p, rtol=1e-6)
    assert window.prediction.digit.text() == str(int(np.argmax(p)))
    np.testing.assert_allclose(window.prediction.input_item.image, window.last_input)
    maps = window.last_forward.maps[0]
    np.testing.assert_allclose(window.net_view.maps_shown[3], maps[3], rtol=1e-6)
    nv = window.net_view
    cell = nv.map_cells[3]
    shown = nv.maps_item.image[int(cell.top()) + nv._mosaic_geom[4]:int(cell.bottom()),
                               int(cell.left()):int(cell.right())]
    assert shown.shape == (21, 21, 4) and len(np.unique(shown.reshape(-1, 4), axis=0)) > 5
    first = p.copy()
    drag(c, [(r.x() + x * k, r.y() + y * k) for x, y in line(60, 60, 220, 60)])
    qtbot.waitUntil(lambda: not np.allclose(window.last_proba, first), timeout=2000)
    window.act_clear.trigger()
    qtbot.waitUntil(lambda: window.last_proba is None, timeout=2000)
    assert window.prediction.digit.text().strip() == ""


def test_preprocessing_toggle(window, qtbot):
    c = window.canvas
    r = c.target_rect()
    k = r.width() / 280
    drag(c, [(r.x() + x * k, r.y() + y * k) for x, y in line(30, 30, 80, 30)])   # small, in a corner
    window.classify_now()
    assert abs(centre_of_mass(window.last_input)[1] - 14) <= 0.5
    window.preprocess_box.setChecked(False)
    assert not window.act_preprocess.isChecked()
    np.testing.assert_allclose(window.last_input, to_mnist(c.image(), preprocess=False))
    assert centre_of_mass(window.last_input)[0] < 5      # stays in the corner


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
    assert nv.kernels_frame.isVisible()                   # the kernel is framed
    assert nv.kernels_frame.rect().contains(nv.kernel_cells[4].center())
    # in the winner map, kernel 5's colour stays and every other one is dimmed
    cols = nv._winner_colours()
    assert np.array_equal(cols[4], nv._colours[4])
    assert all(cols[i, :3].sum() < nv._colours[i, :3].sum() for i in range(len(cols)) if i != 4)
    assert nv.maps_frame.isVisible()                      # its feature map is framed
    QTest.mouseClick(view.viewport(), Qt.LeftButton, Qt.NoModifier, pos)
    qtbot.waitUntil(lambda: nv.selected_kernel() == -1, timeout=2000)
    assert not nv.maps_frame.isVisible() and not nv.kernels_frame.isVisible()
    # clicking a feature map selects its kernel too
    mpos = nv.maps_widget.mapFromScene(nv.map_cell_center(2))
    QTest.mouseClick(nv.maps_widget.viewport(), Qt.LeftButton, Qt.NoModifier, mpos)
    qtbot.waitUntil(lambda: nv.selected_kernel() == 2, timeout=2000)
    assert nv.kernels_frame.isVisible() and nv.kernels_frame.rect().contains(nv.kernel_cells[2].center())


def test_grids_follow_the_architecture(window, tmp_path):
    from engine import modelfile as io
    other = small_model(1, Config(kernels=4, kernel_size=5, hidden=20))
    path = tmp_path / "small.npz"
    io.save_model(other, path)
    assert window.open_model(path)
    assert len(window.net_view.kernel_cells) == 4 and len(window.net_view.map_cells) == 4
    assert window.net_view.map_cells[0].width() == 24
    assert window.net_view.pooled_shown.shape == (24, 24)
    assert window.net_view.kernels_shown.shape == (4, 5, 5)


# -- models: open, save, errors --------------------------------------------------------
def test_bad_file_shows_error_and_keeps_model(window, tmp_path):
    errors = []
    window._show_error = lambda title, text: errors.append((title, text))
    before = window.current_model()
    bad = tmp_path / "broken.npz"
    bad.write_bytes(b"this is not a model")
    assert not window.open_model(bad)
    assert len(errors) == 1 and "broken.npz" in errors[0][1]
    assert window.current_model() is before
    assert window.open_model(tmp_path / "missing.npz") is False
    assert "missing.npz" in errors[1][1] and window.current_model() is before


def test_open_and_save_round_trip_through_menu_actions(window, tmp_path, monkeypatch):
    errors = []
    window._show_error = lambda title, text: errors.append(text)
    target = tmp_path / "saved"                   # no suffix: .npz is added
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(target), "")))
    window.act_save.trigger()
    saved = tmp_path / "saved.npz"
    assert saved.exists() and not errors
    assert window.model_path() == str(saved)
    original = window.current_model()

    window._set_model(small_model(5), None, unsaved=False)     # something else
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(saved), "")))
    window.act_open.trigger()
    assert not errors
    for key, value in original.params.items():
        np.testing.assert_array_equal(window.current_model().params[key], value)
    assert str(saved) in window.windowTitle() or window.current_model().title in window.windowTitle()
    assert window.recent_files()[0] == str(saved)

    folder = tmp_path / "csv"
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: str(folder)))
    window.act_save_csv.trigger()
    assert (folder / "kernels.csv").exists() and not errors
    window._set_model(small_model(6), None, unsaved=False)
    window.act_open_csv.trigger()
    assert not errors
    np.testing.assert_allclose(window.current_model().params["K"], original.params["K"])


def test_recent_menu_lists_opened_models(window, tmp_path):
    from engine import modelfile as io
    path = tmp_path / "a.npz"
    io.save_model(small_model(2), path)
    window.open_model(path)
    window._fill_recent()
    texts = [a.text() for a in window.recent_menu.actions()]
    assert any(str(path) in t for t in texts)


def test_cancelled_dialogs_do_nothing(window, monkeypatch):
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: ("", "")))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: ("", "")))
    before = window.current_model()
    window.act_open.trigger()
    window.act_save.trigger()
    assert window.current_model() is before


# -- training integration and closing --------------------------------------------------
def test_live_and_trained_models_from_the_panel(window, qtbot):
    c = window.canvas
    r = c.target_rect()
    k = r.width() / 280
    drag(c, [(r.x() + x * k, r.y() + y * k) for x, y in line(140, 50, 140, 230)])
    window.classify_now()
    before = window.last_proba.copy()
    current = window.current_model()
    live = small_model(7)
    window.training_panel.liveModel.emit(live)
    assert window.view_model() is live and window.current_model() is current
    assert not np.allclose(window.last_proba, before)           # re-classified with the live model
    trained = small_model(8)
    window.training_panel.modelTrained.emit(trained)
    assert window.current_model() is trained and window.is_model_unsaved()
    assert window.isWindowModified()
    window.training_panel.statusMessage.emit("hello from training")
    assert window.statusBar().currentMessage() == "hello from training"


def test_close_with_unsaved_model_asks(window, qtbot):
    window.training_panel.modelTrained.emit(small_model(9))
    asked = []
    window._ask_save_changes = lambda: asked.append(1) or "cancel"
    window.close()
    assert asked and window.isVisible()
    window._ask_save_changes = lambda: "discard"
    window.close()
    assert not window.isVisible()


def test_close_remembers_geometry_and_options(window, settings):
    window.preprocess_box.setChecked(False)
    window.close()
    settings.sync()
    assert settings.value("geometry") is not None
    assert settings.value("preprocess", True, type=bool) is False


def test_about_text_lists_versions():
    from app.main_window import about_text
    import PySide6
    text = about_text()
    for word in ("Python", "Qt", "PySide6", PySide6.__version__, "pyqtgraph", "NumPy", "Digitlab"):
        assert word in text


def test_untrained_fallback_is_announced(qtbot, settings, monkeypatch):
    import engine
    from app.main_window import MainWindow

    def missing(path=None):
        raise FileNotFoundError("no shipped model here")
    monkeypatch.setattr(engine, "load_model", missing)
    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    assert "UNTRAINED" in w.statusBar().currentMessage()
    assert w.current_model().name == "untrained"


# -- launcher --------------------------------------------------------------------------
def test_has_display():
    assert not has_display({}, "linux")
    assert has_display({"DISPLAY": ":0"}, "linux")
    assert has_display({"WAYLAND_DISPLAY": "wayland-0"}, "linux")
    assert has_display({"QT_QPA_PLATFORM": "offscreen"}, "linux")
    assert has_display({}, "darwin") and has_display({}, "win32")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the check is for Linux")
def test_launcher_without_display_prints_one_line_and_exits_1():
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    r = subprocess.run([sys.executable, "-c", "from app.launcher import main; raise SystemExit(main([]))"],
                       env=env, capture_output=True, text=True, timeout=60, cwd=str(ROOT))
    assert r.returncode == 1
    out = (r.stdout + r.stderr).strip()
    assert out == NO_DISPLAY_MESSAGE and "\n" not in out
    for cmd in ("digitlab reproduce", "digitlab train", "digitlab evaluate", "digitlab --help"):
        assert cmd in out


def test_launcher_with_arguments_runs_the_command_line(monkeypatch):
    import app.launcher as launcher
    import engine.cli
    seen = []
    monkeypatch.setattr(engine.cli, "main", lambda argv=None: seen.append(argv) or 0)
    assert launcher.main(["evaluate", "--json"]) == 0
    assert seen == [["evaluate", "--json"]]


def test_tablet_pen_draws(canvas):
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QInputDevice, QPointingDevice, QTabletEvent
    from PySide6.QtWidgets import QApplication
    pen = QPointingDevice("test pen", 1, QInputDevice.DeviceType.Stylus, QPointingDevice.PointerType.Pen,
                          QInputDevice.Capability.Position | QInputDevice.Capability.Pressure, 1, 3)

    def send(kind, y, buttons):
        p = QPointF(140, y)
        QApplication.sendEvent(canvas, QTabletEvent(kind, pen, p, canvas.mapToGlobal(p), 0.5, 0.0, 0.0, 0.0,
                                                    0.0, 0.0, Qt.NoModifier, Qt.LeftButton, buttons))
    send(QEvent.Type.TabletPress, 40, Qt.LeftButton)
    for y in range(50, 240, 10):
        send(QEvent.Type.TabletMove, y, Qt.LeftButton)
    send(QEvent.Type.TabletRelease, 240, Qt.NoButton)
    img = canvas.image()
    assert img[40:240, 140].min() == 1.0 and len(canvas.strokes()) == 1


@pytest.mark.skipif(not (ROOT / "resources" / "model.npz").exists(), reason="no shipped model")
def test_shipped_model_loads_at_start_and_reads_a_drawn_one(qtbot, settings):
    from app.main_window import MainWindow
    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    qtbot.waitExposed(w)
    w._ask_save_changes = lambda: "discard"
    assert w.current_model().name != "untrained"
    assert "%" in w.windowTitle()                       # name and test accuracy
    c = w.canvas
    r = c.target_rect()
    k = r.width() / 280
    drag(c, [(r.x() + x * k, r.y() + y * k) for x, y in [(120, 60), (150, 40), (150, 230)]])
    w.classify_now()
    assert int(np.argmax(w.last_proba)) == 1
