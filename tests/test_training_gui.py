"""The training panel: train in a worker thread and watch it learn (offscreen, small data)."""
from __future__ import annotations

import math
import os
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest

pytest.importorskip("pytestqt")
pg = pytest.importorskip("pyqtgraph")

from engine.model import Normalisation  # noqa: E402

from app.training_panel import ARTICLE_PRESET, TrainingPanel, best_preset, kernel_mosaic  # noqa: E402
from app.worker import PreparedData, TrainingSettings  # noqa: E402

TIMEOUT = 20000


def synthetic_data(n_train=200, n_test=50, seed=0) -> PreparedData:
    """Digits-like arrays: each class a bright bar at its own place, plus noise (normalised)."""
    rng = np.random.default_rng(seed)

    def make(n):
        y = np.arange(n) % 10
        X = rng.normal(0, 0.1, (n, 28, 28))
        for c in range(10):
            X[y == c, 2 + 2 * c:5 + 2 * c, 4:24] += 1.0
        return X, y.astype(np.int64)

    Xtr, ytr = make(n_train)
    Xte, yte = make(n_test)
    return PreparedData(Xtr, ytr, Xte, yte, Normalisation(0.0, 255.0, "standard"), "synthetic bars")


class SlowStepper:
    """A stand-in for a mode's stepper: small chunks with a pause each, nudging the kernels."""

    def __init__(self, model, size=4000, chunk=20, delay=0.004, error=0.5, blow_up_at=None):
        self.model = model
        self.size = size
        self.chunk = chunk
        self.delay = delay
        self.error = error
        self.blow_up_at = blow_up_at
        self.chunks = 0

    def epoch(self, iteration):
        done = 0
        sq = 0.0
        while done < self.size:
            time.sleep(self.delay)
            self.model.params["K"] *= 0.999
            self.model.params["K"][0, 0] += 0.01
            n = min(self.chunk, self.size - done)
            done += n
            sq += self.error * n / (iteration + 1)
            self.chunks += 1
            if self.blow_up_at is not None and self.chunks >= self.blow_up_at:
                self.model.params["W2"][...] = np.inf
                sq = math.inf
            yield done, sq, sq


def small_settings(**kw) -> TrainingSettings:
    base = dict(mode="article", source="sample", train_count=300, iterations=2, tol=0.0,
                alpha=0.01, kernels=4, kernel_size=5, hidden=16, seed=0)
    base.update(kw)
    return TrainingSettings(**base)


@pytest.fixture
def panel(qtbot):
    p = TrainingPanel()
    qtbot.addWidget(p)
    p.resize(1100, 700)
    p.show()
    p._confirm = lambda title, text: True
    yield p
    p.shutdown()
    assert not p._thread.is_running(), "the training thread was left running"


def use_fake(panel, **stepper_kw):
    made = []

    def factory(model, data, settings):
        s = SlowStepper(model, **stepper_kw)
        made.append(s)
        return s

    panel.data_override = synthetic_data()
    panel.stepper_factory = factory
    return made


# ---------------------------------------------------------------------------------------
def test_real_training_reports_progress_and_hands_over_the_model(panel, qtbot):
    """Start → progress → finished with the article's engine on a few hundred images."""
    from engine import data as edata
    ds = edata.load("sample")
    Xtr, ytr, Xte, yte, norm = edata.prepare(ds, "article", 300)
    panel.data_override = PreparedData(Xtr, ytr, Xte[:200], yte[:200], norm, "sample subset")
    panel.apply_settings(small_settings(iterations=2), ask=False)
    progress = []
    panel._thread.worker.progress.connect(progress.append)
    trained = []
    panel.modelTrained.connect(trained.append)
    with qtbot.waitSignal(panel.trainingStopped, timeout=60000):
        assert panel.start()
        assert panel.is_training()
    assert not panel.is_training()
    assert len(trained) == 1
    model = trained[0]
    assert model.config.kernels == 4 and model.config.kernel_size == 5
    assert all(np.isfinite(v).all() for v in model.params.values())
    assert model.record["iterations"] == 2
    assert 0 <= model.record["argmax_accuracy"] <= 100
    assert panel.has_unsaved_model()
    panel.mark_saved()
    assert not panel.has_unsaved_model()
    # the curves show two iterations, training and test; the confusion matrix counts the test set
    assert len(panel.train_curve.getData()[0]) == 2
    assert len(panel.test_curve.getData()[0]) == 2
    assert len(panel.argmax_curve.getData()[0]) == 2
    assert panel.confusion.sum() == 200
    log = panel.log.toPlainText()
    assert "iteration 1" in log and "arg-max accuracy" in log
    assert "2 iterations" in log      # the summary


def test_progress_is_throttled_and_snapshots_are_copies(panel, qtbot):
    made = use_fake(panel, size=3000, chunk=10, delay=0.002)
    panel.apply_settings(small_settings(iterations=1), ask=False)
    progress, live = [], []
    panel._thread.worker.progress.connect(progress.append)
    panel.liveModel.connect(live.append)
    t0 = time.perf_counter()
    with qtbot.waitSignal(panel.trainingStopped, timeout=TIMEOUT):
        panel.start()
    seconds = time.perf_counter() - t0
    assert made[0].chunks == 300
    assert 0 < len(progress) <= 22 * seconds + 2        # at most about 20 a second
    assert live, "no model snapshot reached the window"
    assert all(m is not panel.model() for m in live)
    assert len({id(m.params["K"]) for m in live}) == len(live)


def test_pause_and_resume(panel, qtbot):
    made = use_fake(panel, size=400, chunk=10, delay=0.01)
    panel.apply_settings(small_settings(iterations=1), ask=False)
    progress = []
    panel._thread.worker.progress.connect(progress.append)
    panel.start()
    qtbot.waitUntil(lambda: len(progress) >= 2, timeout=TIMEOUT)
    with qtbot.waitSignal(panel._thread.worker.pausedChanged, timeout=TIMEOUT):
        panel.toggle_pause()
    assert panel.pause_button.text() == "Resume"
    frozen = made[0].chunks
    qtbot.wait(300)
    assert made[0].chunks == frozen, "training went on while paused"
    assert panel.is_training()
    with qtbot.waitSignal(panel.trainingStopped, timeout=TIMEOUT):
        panel.toggle_pause()
    assert made[0].chunks == 40
    assert panel.pause_button.text() == "Pause"
    assert "1 iterations" in panel.log.toPlainText()


def test_stop_in_the_middle_of_an_iteration_keeps_the_weights(panel, qtbot):
    made = use_fake(panel, size=100000, chunk=10, delay=0.005)
    panel.apply_settings(small_settings(iterations=5), ask=False)
    finished, trained = [], []
    panel._thread.worker.finished.connect(lambda fin, m: finished.append(fin))
    panel.modelTrained.connect(trained.append)
    progress = []
    panel._thread.worker.progress.connect(progress.append)
    panel.start()
    qtbot.waitUntil(lambda: len(progress) >= 2, timeout=TIMEOUT)
    with qtbot.waitSignal(panel.trainingStopped, timeout=5000):
        panel.stop()
    assert finished[0].reason == "stopped"
    assert made[0].chunks < 10000
    assert trained and trained[0].params["K"][0, 0] != 0
    assert "stopped" in panel.progress_bar.format()
    assert panel.start_button.isEnabled() and not panel.stop_button.isEnabled()


def test_stop_while_paused(panel, qtbot):
    use_fake(panel, size=100000, chunk=10, delay=0.005)
    panel.apply_settings(small_settings(iterations=5), ask=False)
    progress = []
    panel._thread.worker.progress.connect(progress.append)
    panel.start()
    qtbot.waitUntil(lambda: len(progress) >= 1, timeout=TIMEOUT)
    with qtbot.waitSignal(panel._thread.worker.pausedChanged, timeout=TIMEOUT):
        panel.pause()
    with qtbot.waitSignal(panel.trainingStopped, timeout=5000):
        panel.stop()
    assert not panel.is_training()


def test_closing_the_window_during_training_stops_the_thread(qtbot, tmp_path):
    try:
        from app.main_window import MainWindow
    except ImportError:
        pytest.skip("the main window is not there yet")
    from PySide6.QtCore import QSettings
    win = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
    qtbot.addWidget(win)
    win.show()
    p = win.training_panel
    use_fake(p, size=100000, chunk=10, delay=0.005)
    p.apply_settings(small_settings(iterations=5), ask=False)
    win._ask_save_changes = lambda: "discard"
    progress = []
    p._thread.worker.progress.connect(progress.append)
    p.start()
    qtbot.waitUntil(lambda: len(progress) >= 1, timeout=TIMEOUT)
    t0 = time.perf_counter()
    assert win.close()
    assert time.perf_counter() - t0 < 5
    assert not p._thread.is_running()
    assert not p.is_training()


def test_shutdown_during_training_then_train_again(panel, qtbot):
    use_fake(panel, size=100000, chunk=10, delay=0.005)
    panel.apply_settings(small_settings(iterations=5), ask=False)
    progress = []
    panel._thread.worker.progress.connect(progress.append)
    panel.start()
    qtbot.waitUntil(lambda: len(progress) >= 1, timeout=TIMEOUT)
    panel.shutdown()
    assert not panel._thread.is_running()
    qtbot.waitUntil(lambda: not panel.is_training() and panel.start_button.isEnabled(), timeout=TIMEOUT)
    # a closed-then-kept window can still train (a new thread)
    use_fake(panel, size=100, chunk=10, delay=0.001)
    panel.mark_saved()
    with qtbot.waitSignal(panel.trainingStopped, timeout=TIMEOUT):
        assert panel.start()


def test_a_diverging_run_says_so_and_keeps_finite_weights(panel, qtbot):
    """A huge learning rate with the real article engine: NaN/inf → message, finite weights."""
    data = synthetic_data(300, 50)
    panel.data_override = data
    panel.apply_settings(small_settings(iterations=3, alpha=1e5), ask=False)
    live, trained = [], []
    panel.liveModel.connect(live.append)
    panel.modelTrained.connect(trained.append)
    finished = []
    panel._thread.worker.finished.connect(lambda fin, m: finished.append((fin, m)))
    with qtbot.waitSignal(panel.trainingStopped, timeout=60000):
        panel.start()
    fin, model = finished[0]
    assert fin.reason == "diverged"
    assert model is not None and all(np.isfinite(v).all() for v in model.params.values())
    dialog = panel.last_dialog
    assert dialog is not None and "lower learning rate" in dialog.text()
    dialog.close()
    assert "diverged" in panel.log.toPlainText()
    for m in live + trained:
        assert all(np.isfinite(v).all() for v in m.params.values())


def test_a_diverging_fake_run_keeps_last_good_weights(panel, qtbot):
    use_fake(panel, size=2000, chunk=10, delay=0.002, blow_up_at=150)
    panel.apply_settings(small_settings(iterations=3), ask=False)
    with qtbot.waitSignal(panel.trainingStopped, timeout=TIMEOUT):
        panel.start()
    assert "lower learning rate" in panel.last_dialog.text()
    m = panel.model()
    assert m is not None and np.isfinite(m.params["W2"]).all()


def test_an_exception_in_training_reaches_the_window_as_a_dialog(panel, qtbot):
    panel.data_override = synthetic_data()

    def broken(model, data, settings):
        raise RuntimeError("the stepper is broken")

    panel.stepper_factory = broken
    panel.apply_settings(small_settings(), ask=False)
    with qtbot.waitSignal(panel.trainingStopped, timeout=TIMEOUT):
        panel.start()
    assert "the stepper is broken" in panel.last_dialog.text()
    assert panel.start_button.isEnabled()


def test_bad_data_path_is_reported(panel, qtbot, tmp_path):
    missing = tmp_path / "nowhere"
    panel.apply_settings(small_settings(source="local", path=str(missing)), ask=False)
    with qtbot.waitSignal(panel.trainingStopped, timeout=TIMEOUT):
        panel.start()
    assert "nowhere" in panel.last_dialog.text()


def test_the_kernels_view_changes_as_they_learn(panel, qtbot):
    use_fake(panel, size=600, chunk=10, delay=0.01)
    panel.apply_settings(small_settings(iterations=1), ask=False)
    before = panel.kernels_updates
    images = []
    panel.liveModel.connect(lambda m: images.append(panel.kernels_image.image.copy()))
    with qtbot.waitSignal(panel.trainingStopped, timeout=TIMEOUT):
        panel.start()
    assert panel.kernels_updates - before >= 2
    assert len(images) >= 2 and not np.array_equal(images[0], images[-1])
    assert images[-1].shape == (2 * 6 + 1, 2 * 6 + 1, 3)    # 4 kernels of 5x5 in a 2x2 grid


def test_step_continues_from_the_current_weights(panel, qtbot):
    use_fake(panel, size=100, chunk=10, delay=0.001)
    panel.apply_settings(small_settings(iterations=2), ask=False)
    with qtbot.waitSignal(panel.trainingStopped, timeout=TIMEOUT):
        panel.start()
    first = panel.model()
    k00 = first.params["K"][0, 0]
    with qtbot.waitSignal(panel.trainingStopped, timeout=TIMEOUT):
        assert panel.step()
    second = panel.model()
    assert second is not first
    assert second.record["iterations"] == 3
    assert second.params["K"][0, 0] != k00
    assert list(panel.train_curve.getData()[0]) == [1, 2, 3]


def test_changing_the_architecture_asks_before_discarding_a_trained_model(panel, qtbot):
    use_fake(panel, size=100, chunk=10, delay=0.001)
    panel.apply_settings(small_settings(iterations=1), ask=False)
    with qtbot.waitSignal(panel.trainingStopped, timeout=TIMEOUT):
        panel.start()
    asked = []
    panel._confirm = lambda title, text: asked.append(text) or False
    panel.kernels_spin.setValue(6)
    assert asked and "trained" in asked[0]
    assert panel.kernels_spin.value() == 4           # kept
    panel._confirm = lambda title, text: asked.append(text) or True
    panel.kernels_spin.setValue(6)
    assert panel.kernels_spin.value() == 6


def test_reset_weights_gives_fresh_seeded_weights(panel, qtbot):
    panel.apply_settings(small_settings(seed=3), ask=False)
    panel.reset_weights()
    a = panel.model().params["K"].copy()
    panel.reset_weights()
    assert np.array_equal(a, panel.model().params["K"])


def test_backprop_controls_only_in_backprop_mode(panel):
    panel.apply_settings(small_settings(mode="article"), ask=False)
    assert not panel.batch_spin.isEnabled() and not panel.momentum_spin.isEnabled()
    panel.apply_settings(small_settings(mode="backprop"), ask=False)
    assert panel.batch_spin.isEnabled() and panel.momentum_spin.isEnabled()


def test_presets(panel):
    panel.apply_settings(best_preset(), ask=False)
    panel.article_button.click()
    s = panel.settings()
    for key in ("mode", "train_count", "kernels", "kernel_size", "hidden", "alpha", "iterations",
                "tol", "dropout", "seed"):
        assert getattr(s, key) == getattr(ARTICLE_PRESET, key), key
    assert (s.mode, s.train_count, s.kernels, s.alpha, s.iterations, s.tol) == \
        ("article", 20000, 9, 0.01, 50, 0.1)
    panel.best_button.click()
    b = best_preset()
    assert panel.settings().alpha == pytest.approx(b.alpha)
    assert panel.settings().mode == b.mode


def test_probe_readout_follows_the_model(panel):
    panel.apply_settings(small_settings(), ask=False)
    panel.reset_weights()
    img = np.zeros((28, 28))
    img[4:24, 12:16] = 1.0
    panel.set_probe(img)
    assert panel.probe_label.text().startswith("drawing: ")
    assert "%" in panel.probe_label.text()
    panel.set_probe(None)
    assert "–" in panel.probe_label.text()


def test_kernel_mosaic_layout():
    K = np.zeros((9, 64))
    K[0, 0] = 1.0
    K[1, 0] = -2.0
    img = kernel_mosaic(K, 8)
    assert img.shape == (28, 28, 3) and img.dtype == np.uint8
    assert tuple(img[1, 1]) == (255, 0, 0)        # positive: red
    assert tuple(img[1, 10]) == (0, 0, 255)       # negative: blue
    assert tuple(img[2, 2]) == (255, 255, 255)    # zero: white
    assert tuple(img[0, 0]) == (64, 64, 64)       # border


def test_download_reports_progress_then_success(panel, qtbot, monkeypatch, tmp_path):
    from engine import data as edata
    target = tmp_path / "mnist.npz"

    def fake_download(progress=None, **kw):
        for done in (0, 5_000_000, 11_000_000):
            assert progress(done, 11_000_000) is not False
            time.sleep(0.01)
        return target

    monkeypatch.setattr(edata, "download_keras", fake_download)
    seen = []
    panel._thread.worker.downloadProgress.connect(lambda d, t: seen.append(d))
    with qtbot.waitSignal(panel._thread.worker.downloadFinished, timeout=TIMEOUT) as blocker:
        panel.download_mnist()
    assert blocker.args[0] is True and "downloaded" in blocker.args[1]
    qtbot.waitUntil(lambda: panel.start_button.isEnabled(), timeout=TIMEOUT)
    assert seen and seen[-1] == 11_000_000
    assert "downloaded" in panel.log.toPlainText()


def test_download_failure_is_a_dialog(panel, qtbot, monkeypatch):
    from engine import data as edata

    def fake_download(progress=None, **kw):
        raise edata.DownloadError("downloading mnist.npz failed: no network")

    monkeypatch.setattr(edata, "download_keras", fake_download)
    with qtbot.waitSignal(panel._thread.worker.downloadFinished, timeout=TIMEOUT):
        panel.download_mnist()
    qtbot.waitUntil(lambda: panel.last_dialog is not None, timeout=TIMEOUT)
    assert "no network" in panel.last_dialog.text()


def test_the_article_mode_never_gets_biases(panel):
    panel.apply_settings(best_preset(), ask=False)
    panel.mode_combo.setCurrentIndex(panel.mode_combo.findData("article"))
    assert panel.settings().biases is False
