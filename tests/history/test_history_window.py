"""The window: scrub a finished run's timeline, the Runs view, the errors' gallery."""
from __future__ import annotations

import numpy as np

from app.history.error_gallery import TestSet, misread
from app.train.run_jobs import RunRecorded
from engine.history import runs
from tests.app.conftest import small_settings, use_gated
from tests.helpers import draw_on, line


def _train(qtbot, window, gate, **kw):
    panel = window.training_panel
    use_gated(panel, gate, size=100, chunk=10)
    panel.apply_settings(small_settings(epochs=3, **kw))
    gate.open_all()
    with qtbot.waitSignal(panel.trainingStopped, timeout=20000):
        with qtbot.waitSignal(panel.eventShown, check_params_cb=lambda e: isinstance(e, RunRecorded),
                              timeout=20000):
            assert panel.start()


def _listed(qtbot, view, n):
    """Wait for the Runs view's reading of the folder to end with ``n`` runs listed."""
    qtbot.waitUntil(lambda: not view.reading() and len(view.runs) == n, timeout=20000)


def test_scrubbing_a_finished_run_moves_every_view_back(qtbot, window, gate):
    draw_on(window, line(140, 40, 140, 240))
    _train(qtbot, window, gate, mode="backprop")             # tested after every epoch
    tp, plots = window.timeline_panel, window.training_panel.plots
    tl = tp.timeline
    assert tl is not None and len(tl) >= 5                    # start, 64 images, 3 iteration ends
    assert tp.proba is not None and tp.proba.shape == (len(tl), 10)
    x = window.reader.network_input()
    tp.set_index(0)
    first = tl[0]
    assert window.view_model() is first.model
    said = window.prediction.model_label.text()              # "read by": the point scrubbed to
    assert "the timeline" in said and first.label.replace("iteration", "epoch") in said
    np.testing.assert_allclose(window.reading.forward.proba[0], first.model.forward_one(x).proba[0])
    np.testing.assert_allclose(tp.proba[0], first.model.forward_one(x).proba[0])
    k = first.model.params["K"]
    assert not np.allclose(k, window.current_model().params["K"])
    tp.set_index(len(tl) - 2)                                 # the end of iteration 2
    p = tl[len(tl) - 2]
    np.testing.assert_array_equal(plots.confusion, tl.test_at(len(tl) - 2).confusion)
    assert "epoch 2" in tp.label.text() and "arg-max accuracy" in tp.label.text()      # (backprop: epochs)
    np.testing.assert_allclose(window.reading.forward.proba[0], p.model.forward_one(x).proba[0])
    tp.set_index(len(tl) - 1)                                 # now: the current model again
    assert window.view_model() is window.current_model()
    assert "timeline" not in window.prediction.model_label.text()
    assert tp.last_latency >= 0


def test_the_probability_plot_follows_the_drawing(qtbot, window, gate):
    _train(qtbot, window, gate)
    tp = window.timeline_panel
    draw_on(window, line(100, 60, 180, 220))
    assert tp.proba is not None
    before = tp.proba.copy()
    draw_on(window, line(60, 140, 220, 140))
    assert not np.allclose(before, tp.proba)
    window.canvas.clear()
    qtbot.waitUntil(lambda: tp.proba is None)


def test_a_window_run_is_recorded_and_listed(qtbot, window, gate):
    _train(qtbot, window, gate)
    view = window.runs_view
    _listed(qtbot, view, 1)
    info = view.runs[0]
    assert info.iterations == 3 and (info.path / "snapshots.npz").is_file()
    assert view.runs_dir == runs.default_runs_dir()
    view.select([0])
    assert view.open_timeline()
    assert window.timeline_panel.source == f"run {info.id}"
    assert len(window.timeline_panel.timeline) == info.snapshots
    window.prompts.answers["confirm"] = True
    assert view.delete_selected() == 1
    _listed(qtbot, view, 0)


def test_a_confusion_cell_opens_its_gallery_and_an_image_goes_on_the_canvas(qtbot, window, gate):
    _train(qtbot, window, gate)
    gw = window.gallery_wiring
    assert gw.run_test is not None
    rng = np.random.default_rng(0)
    imgs = rng.random((30, 28, 28)).astype(np.float32)
    labels = np.arange(30) % 10
    test = TestSet(imgs, labels, imgs, True, "random images")
    gw.run_test = test
    proba = window.view_model().forward(imgs, maps=False).proba
    true = int(labels[0])
    read = int(proba[0].argmax())
    g = gw.open((true, read))
    qtbot.addWidget(g)
    qtbot.waitUntil(g.is_ready, timeout=20000)
    expected = misread(proba, labels, true, read)
    assert g.cell() == (true, read) and list(g.shown) == list(expected)
    assert g.grid.count() == len(expected) >= 1
    conf = proba[expected, read]
    assert list(conf) == sorted(conf, reverse=True)            # most confident first
    g.grid.itemClicked.emit(g.grid.item(0))
    img = window.canvas.image()
    assert img.shape == (280, 280) and not window.canvas.is_empty()
    small = img.reshape(28, 10, 28, 10).mean(axis=(1, 3))
    assert np.corrcoef(small.ravel(), imgs[expected[0]].ravel())[0, 1] > 0.9
    draw_on(window, line(20, 20, 60, 60))                      # the user can draw over it
    assert window.canvas.strokes()
    window.canvas.clear()
    assert window.canvas.is_empty() and not window.canvas.image().any()


def test_where_does_it_fail_works_without_a_run(qtbot, window):
    g = window.gallery_wiring.open()
    qtbot.addWidget(g)
    qtbot.waitUntil(g.is_ready, timeout=20000)
    assert "sample" in g.test.description and g.confusion.sum() == len(g.test.labels)
    i, j = g.cell()
    assert i != j or g.confusion[i, j] == g.confusion.max()


def test_play_runs_the_timeline_from_the_start_to_now(qtbot, window, gate):
    _train(qtbot, window, gate)
    tp = window.timeline_panel
    seen = []
    tp.pointChosen.connect(seen.append)
    tp.play_button.click()
    assert tp.play_button.text() == "Pause"
    qtbot.waitUntil(lambda: not tp.play_button.isChecked(), timeout=20000)
    assert seen == list(range(len(tp.timeline)))
    assert tp.at_end() and window.view_model() is window.current_model()


def test_the_runs_view_opens_a_runs_model_and_exports_it(qtbot, window, gate, tmp_path):
    _train(qtbot, window, gate)
    view = window.runs_view
    _listed(qtbot, view, 1)
    view.select([0])
    run = view.runs[0]
    window.owner.mark_saved(str(tmp_path / "trained.npz"))     # nothing to ask about
    assert view.open_model()
    np.testing.assert_array_equal(window.current_model().params["W1"],
                                  runs.load_run_model(run).params["W1"])
    window.prompts.answers["save_file"] = str(tmp_path / "c.csv")
    assert view.export_curves() and (tmp_path / "c.csv").read_text().startswith("iteration,")
    window.prompts.answers["save_file"] = str(tmp_path / "k.png")
    assert view.export_kernels() and (tmp_path / "k.png").stat().st_size > 0


def test_a_timeline_below_the_drawing_opens_tall_enough_for_its_plot(qtbot, window, gate):
    from app.frame.layout import BOTTOM_MIN_HEIGHT
    window.resize(1400, 900)
    window.window_layout.place_bottom_docks()                       # a wide window: docks go below
    _train(qtbot, window, gate)
    view = window.runs_view
    _listed(qtbot, view, 1)
    view.select([0])
    assert view.open_timeline()
    qtbot.waitUntil(lambda: window.timeline_dock.height() >= BOTTOM_MIN_HEIGHT, timeout=5000)
    assert window.canvas.height() >= 200                     # the drawing keeps its room
