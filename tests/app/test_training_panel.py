"""The Train dock: its settings are the engine's, runs train in a thread, the model goes to
the owner; fake steppers are released chunk by chunk."""
from __future__ import annotations

import numpy as np
import pytest

from app.train.run_jobs import RunEnded, Snapshot
from engine.train.events import Evaluated, IterationEnd, Progress
from engine.train.recipes import BACKPROP, PRESETS, RunSettings

from .conftest import small_settings, synthetic_data, use_gated

TIMEOUT = 20000


def events(panel, kind):
    out = []
    panel.eventShown.connect(lambda ev: isinstance(ev, kind) and out.append(ev))
    return out


# -- the form ---------------------------------------------------------------------------
def test_the_panels_defaults_are_the_engines(panel):
    s = panel.settings()
    assert s == RunSettings.for_mode(s.mode).replace(source=s.source, path=s.path)
    panel.form.widgets["mode"].setCurrentIndex(panel.form.widgets["mode"].findData("backprop"))
    assert panel.settings() == BACKPROP.replace(source=s.source, path=s.path)


@pytest.mark.parametrize("name", list(PRESETS))
def test_presets_are_the_engines_on_the_chosen_data(panel, name):
    panel.form.set_path("/data/mnist")
    panel.preset_buttons[name].click()
    assert panel.settings() == PRESETS[name].replace(source="local", path="/data/mnist")


def test_backprop_settings_only_in_backprop_mode_and_the_article_never_gets_biases(panel):
    panel.apply_settings(PRESETS["Best"])
    assert panel.form.widgets["batch"].isEnabled() and panel.form.widgets["augment"].isChecked()
    panel.apply_settings(small_settings(mode="article"))
    assert not panel.form.widgets["batch"].isEnabled() and not panel.form.widgets["biases"].isEnabled()
    panel.form.set_value("biases", True)
    assert panel.settings().biases is False


# -- runs -------------------------------------------------------------------------------
def test_a_real_run_reports_and_hands_the_model_to_the_owner(panel, qtbot, owner):
    from engine.files import data as edata
    from engine.train.recipes import PreparedData
    ds = edata.load("sample")
    Xtr, ytr, Xte, yte, norm = edata.prepare(ds, "article", 300)
    panel.data_override = PreparedData(Xtr, ytr, Xte[:200], yte[:200], norm, "sample", "sample subset")
    panel.apply_settings(small_settings(epochs=2))
    with qtbot.waitSignal(panel.trainingStopped, timeout=60000):
        assert panel.start() and panel.is_training() and owner.is_training()
    model = owner.model()
    assert model.config.kernels == 4 and model.config.kernel_size == 5
    assert model.record.iterations == 2 and model.record.mode == "article"
    assert 0 <= model.record.argmax_accuracy <= 100 and model.record.test.images == 200
    assert owner.is_unsaved() and not owner.is_training() and owner.live() is None
    qtbot.waitUntil(panel.plots.up_to_date, timeout=2000)   # (a view a turn once the run ended)
    assert len(panel.plots.train_curve.getData()[0]) == 2
    assert len(panel.plots.argmax_curve.getData()[0]) == 1      # the article mode tests at the end
    assert panel.plots.confusion.sum() == 200
    log = panel.log.toPlainText()
    assert "iteration 1" in log and "arg-max accuracy" in log and "2 iterations" in log


def test_snapshots_are_copies_the_run_never_touches(panel, qtbot, owner, gate):
    made = use_gated(panel, gate, size=100, chunk=10)
    panel.apply_settings(small_settings(epochs=1))
    snaps = events(panel, Snapshot)
    views = []
    owner.modelChanged.connect(views.append)
    panel.start()
    qtbot.waitUntil(lambda: bool(made), timeout=TIMEOUT)
    for i in range(1, 6):
        gate.release()
        qtbot.waitUntil(lambda: len(snaps) >= i, timeout=TIMEOUT)
        trained = made[0].model.params
        assert not any(np.shares_memory(snaps[-1].model.params[k], trained[k]) for k in trained)
        assert owner.view_model() is snaps[-1].model
    with qtbot.waitSignal(panel.trainingStopped, timeout=TIMEOUT):
        gate.open_all()
    assert owner.model() is made[0].model                    # handed over once the run ended
    assert all(v is not made[0].model for v in views[:-1])


def test_pause_holds_the_run_and_resume_finishes_it(panel, qtbot, gate):
    made = use_gated(panel, gate, size=40, chunk=10)
    panel.apply_settings(small_settings(epochs=1))
    progress = events(panel, Progress)
    panel.start()
    gate.release()
    qtbot.waitUntil(lambda: len(progress) == 1, timeout=TIMEOUT)
    with qtbot.waitSignal(panel.pausedChanged, timeout=TIMEOUT):
        panel.toggle_pause()
        gate.release(3)                                      # free to run, but paused
    assert panel.pause_button.text() == "Resume" and panel.is_paused()
    assert made[0].chunks == 2 and len(progress) == 2        # held after the chunk it was in
    with qtbot.waitSignal(panel.trainingStopped, timeout=TIMEOUT):
        panel.toggle_pause()
    assert made[0].chunks == 4 and panel.pause_button.text() == "Pause"
    assert "1 iteration," in panel.log.toPlainText()


def test_stop_in_the_middle_of_an_iteration_keeps_the_weights(panel, qtbot, gate, owner):
    made = use_gated(panel, gate, size=100000, chunk=10)
    panel.apply_settings(small_settings(epochs=5))
    ended = events(panel, RunEnded)
    panel.start()
    gate.release(3)
    qtbot.waitUntil(lambda: bool(made) and made[0].chunks == 3, timeout=TIMEOUT)
    panel.stop()
    assert panel.progress_bar.format() == "stopping…" and not panel.stop_button.isEnabled()
    with qtbot.waitSignal(panel.trainingStopped, timeout=TIMEOUT):
        gate.release()
    assert ended[0].finished.reason == "stopped" and made[0].chunks == 4
    assert owner.model() is made[0].model and owner.model().params["K"][0, 0] != 0
    assert "stopped" in panel.progress_bar.format()
    assert panel.start_button.isEnabled() and not panel.stop_button.isEnabled()


def test_stop_while_paused(panel, qtbot, gate):
    use_gated(panel, gate, size=100000, chunk=10)
    panel.apply_settings(small_settings(epochs=5))
    panel.start()
    with qtbot.waitSignal(panel.pausedChanged, timeout=TIMEOUT):
        panel.pause()
        gate.release()
    with qtbot.waitSignal(panel.trainingStopped, timeout=TIMEOUT):
        panel.stop()
        gate.release()
    assert not panel.is_busy()


def test_step_continues_from_the_current_weights(panel, qtbot, gate, owner):
    gate.open_all()
    use_gated(panel, gate, size=100, chunk=10)
    panel.apply_settings(small_settings(epochs=2))
    with qtbot.waitSignal(panel.trainingStopped, timeout=TIMEOUT):
        panel.start()
    first = owner.model()
    k00 = first.params["K"][0, 0]
    with qtbot.waitSignal(panel.trainingStopped, timeout=TIMEOUT):
        assert panel.step()
    second = owner.model()
    assert second is not first and second.record.iterations == 3
    assert second.params["K"][0, 0] != k00 and first.params["K"][0, 0] == k00
    qtbot.waitUntil(panel.plots.up_to_date, timeout=2000)
    assert list(panel.plots.train_curve.getData()[0]) == [1, 2, 3]


def test_a_new_run_or_a_fresh_step_asks_before_discarding_an_unsaved_model(panel, owner, prompts,
                                                                            small_model):
    trained = small_model(3)
    owner.set_model(trained, unsaved=True)
    panel.apply_settings(small_settings(kernels=6))          # another network: Step starts afresh
    prompts.answers["ask_save"] = "cancel"
    assert not panel.start() and not panel.step() and not panel.reset_weights()
    assert len(prompts.texts("ask_save")) == 3 and owner.model() is trained and not panel.is_busy()


def test_reset_weights_gives_fresh_seeded_weights(panel, owner):
    panel.apply_settings(small_settings(seed=3))
    assert panel.reset_weights()
    a = owner.model().params["K"].copy()
    assert panel.reset_weights()
    assert np.array_equal(a, owner.model().params["K"]) and owner.model().config.kernels == 4


def test_a_diverging_run_says_so_and_keeps_finite_weights(panel, qtbot, owner, prompts):
    panel.data_override = synthetic_data(300, 50)
    panel.apply_settings(small_settings(epochs=3, alpha=1e5))
    with qtbot.waitSignal(panel.trainingStopped, timeout=60000):
        panel.start()
    notes = prompts.texts("note")
    assert notes and "lower learning rate" in notes[0]
    assert "diverged" in panel.log.toPlainText()
    assert all(np.isfinite(v).all() for v in owner.model().params.values())


def test_an_exception_in_training_reaches_the_user(panel, qtbot, prompts):
    panel.data_override = synthetic_data()

    def broken(model, data, settings):
        raise RuntimeError("the stepper is broken")

    panel.stepper_factory = broken
    panel.apply_settings(small_settings())
    with qtbot.waitSignal(panel.trainingStopped, timeout=TIMEOUT):
        panel.start()
    assert "the stepper is broken" in prompts.texts("note")[0]
    assert panel.start_button.isEnabled()


def test_a_bad_data_path_is_reported(panel, qtbot, tmp_path, prompts):
    panel.apply_settings(small_settings(source="local", path=str(tmp_path / "nowhere")))
    with qtbot.waitSignal(panel.trainingStopped, timeout=TIMEOUT):
        panel.start()
    assert "nowhere" in prompts.texts("note")[0]


def test_the_kernels_view_changes_as_they_learn(panel, qtbot, gate):
    use_gated(panel, gate, size=60, chunk=10)
    panel.apply_settings(small_settings(epochs=1))
    plots = panel.plots
    images, before = [], plots.kernels_updates
    with qtbot.waitSignal(panel.trainingStopped, timeout=TIMEOUT):
        panel.start()
        for i in range(1, 3):               # a chunk, its snapshot drawn on a turn of its own
            gate.release()
            qtbot.waitUntil(lambda: plots.kernels_updates >= before + i, timeout=TIMEOUT)
            images.append(plots.kernels.image.copy())
        gate.open_all()
    qtbot.waitUntil(plots.up_to_date, timeout=2000)
    assert not np.array_equal(images[0], images[1])                  # they changed as they learnt
    assert not np.array_equal(images[1], plots.kernels.image)        # and the last is shown
    assert len(plots.kernels.cells) == 4


def test_download_reports_progress_then_success(panel, qtbot, monkeypatch, tmp_path):
    from engine.files import data as edata
    target = tmp_path / "mnist.npz"

    def fake_download(progress=None, **kw):
        for done in (0, 5_000_000, 11_000_000):
            assert progress(done, 11_000_000) is not False
        return target

    monkeypatch.setattr(edata, "download_keras", fake_download)
    with qtbot.waitSignal(panel.trainingStopped, timeout=TIMEOUT):
        assert panel.download_mnist()
    assert "downloaded" in panel.log.toPlainText() and "downloaded" in panel.progress_bar.format()
    assert panel.start_button.isEnabled()


def test_download_failure_is_a_message(panel, qtbot, monkeypatch, prompts):
    from engine.files import data as edata

    def fake_download(progress=None, **kw):
        raise edata.DownloadError("downloading mnist.npz failed: no network")

    monkeypatch.setattr(edata, "download_keras", fake_download)
    with qtbot.waitSignal(panel.trainingStopped, timeout=TIMEOUT):
        panel.download_mnist()
    assert "no network" in prompts.texts("note")[0]


def test_evaluated_events_fill_the_accuracy_plot(panel, qtbot, gate):
    gate.open_all()
    use_gated(panel, gate, size=20, chunk=10)
    panel.apply_settings(small_settings(mode="backprop", epochs=2, train=None))
    tested = events(panel, Evaluated)
    with qtbot.waitSignal(panel.trainingStopped, timeout=60000):
        panel.start()
    qtbot.waitUntil(panel.plots.up_to_date, timeout=2000)
    assert len(tested) == 2 and len(panel.plots.argmax_curve.getData()[0]) == 2


def test_while_a_run_is_on_the_views_are_redrawn_one_turn_at_a_time(panel, qtbot):
    """The end of an iteration changes every view; while a run is on each view is redrawn on
    an event-loop turn of its own (the window paints between), out of a run at once."""
    from engine.train.record import TestFigures
    plots = panel.plots
    plots.set_paced(True)
    drawn = []
    for name in ("_draw_error", "_draw_accuracy", "_draw_confusion"):
        real = getattr(plots, name)
        setattr(plots, name, lambda *a, _real=real, _n=name: (drawn.append(_n), _real(*a)))
    plots.add_iteration(IterationEnd(0, 0.5, 0.5, 1.0, 100.0))
    plots.add_test(0, TestFigures(0.4, 60.0, 70.0, confusion=np.eye(10) * 7))
    assert drawn == [] and plots.confusion.sum() == 70           # the figures are kept at once
    qtbot.waitUntil(lambda: len(drawn) == 3, timeout=5000)
    assert drawn == ["_draw_error", "_draw_accuracy", "_draw_confusion"]
    assert list(plots.train_curve.getData()[0]) == [1] and list(plots.argmax_curve.getData()[1]) == [70.0]
    plots.set_paced(False)
    plots.add_iteration(IterationEnd(1, 0.3, 0.3, 1.0, 100.0))
    assert list(plots.train_curve.getData()[0]) == [1, 2]           # at once


def test_while_a_run_is_on_a_view_is_redrawn_at_most_every_view_seconds_with_the_newest(panel, qtbot):
    """Short iterations end several times a second: each view is redrawn at most every
    VIEW_SECONDS, with the newest figures, and what waits is drawn once the run ends."""
    from engine.train.record import TestFigures
    plots = panel.plots
    plots.VIEW_SECONDS = 1.0
    plots.set_run("backprop", 10)
    plots.set_paced(True)
    drawn = []
    real = plots._draw_confusion
    plots._draw_confusion = lambda c: (drawn.append(int(c.sum())), real(c))
    for i in range(5):                      # five iterations ending within a few milliseconds
        plots.add_test(i, TestFigures(0.4, 60.0, 70.0, confusion=np.eye(10) * (i + 1)))
    qtbot.waitUntil(lambda: len(drawn) == 1, timeout=2000)
    assert drawn == [50]                    # once, with the newest
    plots.add_test(5, TestFigures(0.4, 60.0, 70.0, confusion=np.eye(10) * 6))
    qtbot.wait(100)
    assert drawn == [50]                    # nothing more for VIEW_SECONDS
    qtbot.waitUntil(lambda: len(drawn) == 2, timeout=5000)
    assert drawn == [50, 60]
    (x0, x1), _ = plots.error_plot.getPlotItem().getViewBox().viewRange()
    assert x0 <= 0 and 8 <= x1 < 9          # the power of two past the curves (6), not a tight fit
    plots.add_test(6, TestFigures(0.4, 60.0, 70.0, confusion=np.eye(10) * 7))
    plots.set_paced(False)                  # the run ended: what waits is drawn, then the axes fit
    qtbot.waitUntil(plots.up_to_date, timeout=2000)
    assert drawn == [50, 60, 70]
    qtbot.waitUntil(lambda: plots.error_plot.getPlotItem().getViewBox().viewRange()[0][1] < 8, timeout=2000)
