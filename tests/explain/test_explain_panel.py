"""The explanation panel: each view shows what the engine computes for the drawing."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

import engine
from engine.explain.ablation import Broken, Damage, kernel_ranking
from engine.explain.attribution import explain
from engine.explain.robustness import robustness
from engine.files.data import Dataset, load_sample
from engine.net.model import softmax
from engine.net.preprocess import to_mnist

from app.explain.panel import ExplainPanel

WAIT = 30_000


@pytest.fixture(scope="module")
def data():
    """A small part of the bundled sample: 600 training and 200 test digits."""
    ds = load_sample()
    return Dataset(ds.train_images[:600], ds.train_labels[:600], ds.test_images[:200], ds.test_labels[:200],
                   "sample", "part of the sample")


@pytest.fixture(scope="module")
def model():
    return engine.load_model()


@pytest.fixture
def panel(qtbot, data):
    p = ExplainPanel(data=data)
    qtbot.addWidget(p)
    p.resize(900, 700)
    yield p
    p.shutdown()


def canvas_of(image01) -> np.ndarray:
    """A 28x28 digit drawn ten times larger, as a canvas image (280, 280) float32."""
    return np.kron(np.asarray(image01, np.float32), np.ones((10, 10), np.float32))


def show(qtbot, panel, model, image01):
    """Give the panel the model and the drawing made from ``image01``; returns (image28, canvas)."""
    canvas = canvas_of(image01)
    x28 = to_mnist(canvas)
    panel.set_model(model)
    panel.set_drawing(x28, canvas)
    return x28, canvas


def test_why_shows_the_attribution_of_the_reading_and_sends_the_overlay_in_canvas_pixels(qtbot, panel, model, data):
    panel.set_model(model)                     # no drawing yet: no attribution, no overlay
    got = {}
    panel.attributionChanged.connect(lambda a: got.setdefault("attribution", a))
    panel.overlayChanged.connect(lambda o: got.setdefault("overlay", o))
    canvas = canvas_of(data.test_images[0] / 255.0)
    x28 = to_mnist(canvas)
    with qtbot.waitSignals([panel.attributionChanged, panel.overlayChanged], timeout=WAIT):
        panel.set_drawing(x28, canvas)
    attribution, overlay = got["attribution"], got["overlay"]
    want, proba = explain(model, x28, None, "gradient × input")
    np.testing.assert_allclose(panel.attr_view.attribution, want, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(attribution, want, rtol=1e-6, atol=1e-12)
    assert overlay.shape == (280, 280, 4) and overlay.dtype == np.uint8
    assert overlay[..., 3][canvas == 0].mean() < overlay[..., 3][canvas > 0.5].mean()
    assert f"Read as {int(np.argmax(proba))}" in panel.why_label.text()


def test_why_names_the_digit_and_certainty_the_window_reads(qtbot, panel, model):
    """A drawing the network alone reads as 9 (82%) and the window, averaging small distortions
    as the shipped model is read, as 4 (85%): the tab explains the 4, with the window's 85%."""
    image = load_sample().test_images[298] / 255.0            # a 4 (the sample's test image 298)
    canvas = canvas_of(image)
    x28 = to_mnist(canvas)
    reading = engine.read(model, x28)
    plain = model.predict_proba(x28[None])[0]
    assert int(plain.argmax()) != int(reading.digit[0])       # (the case this test is about)
    panel.set_model(model)
    with qtbot.waitSignal(panel.attributionChanged, timeout=WAIT):
        panel.set_drawing(x28, canvas)
    d, p = int(reading.digit[0]), float(reading.proba[0].max())
    assert f"Read as {d} ({p:.0%})" in panel.why_label.text()
    want, _ = explain(model, x28, d, "gradient × input")
    np.testing.assert_allclose(panel.attr_view.attribution, want, rtol=1e-6, atol=1e-12)


def test_why_not_another_digit_by_occlusion(qtbot, panel, model, data):
    with qtbot.waitSignal(panel.attributionChanged, timeout=WAIT):
        x28, _ = show(qtbot, panel, model, data.test_images[1] / 255.0)
    read = int(np.argmax(model.predict_proba(x28[None])[0]))
    other = (read + 1) % 10
    panel.method_box.setCurrentText("occlusion")
    with qtbot.waitSignal(panel.attributionChanged, timeout=WAIT,
                          check_params_cb=lambda a: a is not None and np.allclose(
                              a, explain(model, x28, other, "occlusion")[0], atol=1e-9)):
        panel.class_box.setCurrentIndex(panel.class_box.findData(other))
    qtbot.waitUntil(lambda: f"Why not {other}?" in panel.why_label.text(), timeout=WAIT)


def test_overlay_off_and_a_cleared_drawing_send_no_overlay(qtbot, panel, model, data):
    with qtbot.waitSignal(panel.overlayChanged, timeout=WAIT, check_params_cb=lambda o: o is not None):
        show(qtbot, panel, model, data.test_images[2] / 255.0)
    with qtbot.waitSignal(panel.overlayChanged, timeout=WAIT, check_params_cb=lambda o: o is None):
        panel.overlay_box.setChecked(False)
    with qtbot.waitSignal(panel.attributionChanged, timeout=WAIT, check_params_cb=lambda a: a is None):
        panel.set_drawing(np.zeros((28, 28), np.float32), np.zeros((280, 280), np.float32))
    assert panel.why_label.text() == "Draw a digit"


def test_the_newest_drawing_wins(qtbot, panel, model, data):
    panel.set_model(model)
    for i in range(12):
        panel.set_drawing(to_mnist(canvas_of(data.test_images[i] / 255.0)), canvas_of(data.test_images[i] / 255.0))
    last = to_mnist(canvas_of(data.test_images[11] / 255.0))
    want = explain(model, last, None, "gradient × input")[0]
    qtbot.waitUntil(lambda: not panel.runner.busy("why") and panel.attr_view.attribution is not None
                    and np.allclose(panel.attr_view.attribution, want, atol=1e-12), timeout=WAIT)


def test_robustness_grids_show_the_readings_with_and_without_preprocessing(qtbot, panel, model, data):
    x28, canvas = show(qtbot, panel, model, data.test_images[3] / 255.0)
    panel.tabs.setCurrentIndex(1)
    with qtbot.waitSignal(panel.robustnessChanged, timeout=WAIT) as blocker:
        qtbot.mouseClick(panel.robust_button, Qt.LeftButton)
    r = blocker.args[0]
    for pre, got in ((True, r.on), (False, r.off)):
        want = robustness(model, canvas, pre)
        np.testing.assert_array_equal(panel.grids[pre]["shift"].reads, want.shift_proba.argmax(-1))
        np.testing.assert_array_equal(panel.grids[pre]["angle"].reads[0], want.angle_proba.argmax(-1))
        np.testing.assert_array_equal(panel.grids[pre]["scale"].reads[0], want.scale_proba.argmax(-1))
        np.testing.assert_array_equal(panel.grids[pre]["thickness"].reads[0], want.thickness_proba.argmax(-1))
        np.testing.assert_allclose(panel.grids[pre]["shift"].confidence, want.shift_proba[..., got.reading],
                                   rtol=1e-4, atol=1e-7)
    assert f"Read as {r.on.reading}" in panel.robust_label.text()


def test_break_it_switching_off_every_kernel_leaves_the_biases_reading(qtbot, panel, model, data):
    x28, _ = show(qtbot, panel, model, data.test_images[4] / 255.0)
    with qtbot.waitSignal(panel.brokenChanged, timeout=WAIT) as blocker:
        panel.tabs.setCurrentIndex(2)
    intact = blocker.args[0]
    assert intact.damage == Damage() and intact.accuracy == intact.intact_accuracy > 0.9
    assert f"{intact.accuracy:.1%}" in panel.break_label.text()
    p = model.params
    bias_only = softmax((np.tanh(p["b1"]) @ p["W2"] + p["b2"]) / model.temperature)   # as it reads
    last = panel.kernel_list.count() - 1

    def all_off(r):
        return len(r.damage.kernels_off) == model.config.kernels

    with qtbot.waitSignal(panel.brokenChanged, timeout=WAIT, check_params_cb=all_off) as blocker:
        for i in range(last + 1):
            panel.kernel_list.item(i).setCheckState(Qt.Unchecked)
    r = blocker.args[0]
    np.testing.assert_allclose(r.proba, bias_only, rtol=1e-5)
    assert r.accuracy < 0.3
    assert f"{model.config.kernels} kernels off" in panel.break_label.text()
    with qtbot.waitSignal(panel.brokenChanged, timeout=WAIT, check_params_cb=lambda r: r.damage.none):
        panel.repair()


def test_break_it_noise_and_bits_update_the_reading_and_the_accuracy(qtbot, panel, model, data):
    x28, _ = show(qtbot, panel, model, data.test_images[5] / 255.0)
    panel.tabs.setCurrentIndex(2)
    with qtbot.waitSignal(panel.brokenChanged, timeout=WAIT,
                          check_params_cb=lambda r: r.damage.bits == 3 and r.damage.noise == 0.2) as blocker:
        panel.noise_slider.setValue(20)
        panel.bits_spin.setValue(3)
    r = blocker.args[0]
    broken = Broken(model, r.damage)
    np.testing.assert_allclose(r.proba, broken.predict_proba(x28[None])[0], rtol=1e-5)
    want = np.mean(broken.predict_proba(data.test_images[:200] / 255.0).argmax(1) == data.test_labels[:200])
    assert r.accuracy == pytest.approx(want)
    assert "20% weight noise, weights on 3 bits" in panel.break_label.text()


def test_kernel_ranking_table_lists_the_most_needed_kernel_first(qtbot, panel, model, data):
    show(qtbot, panel, model, data.test_images[6] / 255.0)
    panel.tabs.setCurrentIndex(2)
    with qtbot.waitSignal(panel.rankingChanged, timeout=WAIT) as blocker:
        qtbot.mouseClick(panel.rank_button, Qt.LeftButton)
    want = kernel_ranking(model, data.test_images[:200] / 255.0, data.test_labels[:200])
    np.testing.assert_allclose(blocker.args[0].without, want.without)
    top = int(want.order[0])
    assert panel.rank_table.rowCount() == model.config.kernels
    assert panel.rank_table.item(0, 0).text() == f"kernel {top + 1}"
    assert panel.rank_table.item(0, 1).text() == f"{want.without[top]:.1%}"
    rect = panel.rank_table.visualItemRect(panel.rank_table.item(0, 0))
    with qtbot.waitSignal(panel.brokenChanged, timeout=WAIT,
                          check_params_cb=lambda r: r.damage.kernels_off == (top,)) as blocker:
        qtbot.mouseClick(panel.rank_table.viewport(), Qt.LeftButton, pos=rect.center())
        qtbot.mouseDClick(panel.rank_table.viewport(), Qt.LeftButton, pos=rect.center())
    assert blocker.args[0].accuracy == pytest.approx(want.without[top])


def test_looks_like_shows_the_training_image_itself_first_and_moves_the_point(qtbot, panel, model, data):
    image = data.train_images[10] / 255.0
    panel.set_model(model)
    panel.tabs.setCurrentIndex(3)
    with qtbot.waitSignal(panel.looksChanged, timeout=WAIT) as blocker:
        panel.set_drawing(image.astype(np.float32))                # the 28x28 image itself, no canvas
    r = blocker.args[0]
    assert r.index[0] == 10 and r.distance[0] < 1e-3
    assert panel.gallery.captions[0].text().startswith(f"{data.train_labels[10]}  (0.0)")
    assert not panel.gallery.images[0].pixmap().isNull()
    np.testing.assert_allclose(panel.map_view.drawing_xy, r.xy)
    other = data.train_images[20] / 255.0
    with qtbot.waitSignal(panel.looksChanged, timeout=WAIT) as blocker:
        panel.set_drawing(other.astype(np.float32))
    assert blocker.args[0].index[0] == 20
    assert not np.allclose(panel.map_view.drawing_xy, r.xy)
    assert sum(len(item.data) for item in panel.map_view.points) == 200


def test_a_new_model_replaces_the_old_ones_results(qtbot, panel, model, data, small_model):
    other = small_model(3)
    x28 = to_mnist(canvas_of(data.test_images[7] / 255.0))
    panel.set_model(model)
    panel.set_drawing(x28)
    panel.set_model(other)                           # before the first model's result is shown
    want = explain(other, x28, None, "gradient × input")[0]
    qtbot.waitUntil(lambda: panel.attr_view.attribution is not None and not panel.runner.busy("why")
                    and np.allclose(panel.attr_view.attribution, want, atol=1e-12), timeout=WAIT)
    assert panel.kernel_list.count() == other.config.kernels


def test_robustness_asks_for_a_drawing_first(qtbot, panel, model):
    panel.set_model(model)
    panel.tabs.setCurrentIndex(1)
    qtbot.mouseClick(panel.robust_button, Qt.LeftButton)
    assert panel.robust_label.text() == "Draw a digit first"
