"""The errors' gallery and the Runs view read off the GUI thread: they say so at once, the
window stays usable meanwhile, and only the newest reading is shown."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from app.history import runs_view as rv
from app.history.error_gallery import TestSet, misread, predictions
from engine.history import runs
from tests.helpers import draw_on, line
from tests.history.test_runs import _recorded

WAIT_MS = 20000


class GatedPredictor:
    """Reads a test set as the app does, once the test opens the gate; records each call."""

    def __init__(self, fail: str = ""):
        self.gate, self.started = threading.Event(), threading.Event()
        self.calls: list = []
        self.fail = fail

    def __call__(self, model, test):
        self.calls.append(model)
        self.started.set()
        if not self.gate.wait(WAIT_MS / 1000):
            raise TimeoutError("the test never opened the gate")
        if self.fail:
            raise ValueError(self.fail)
        return predictions(model, test)


@pytest.fixture
def random_test(window):
    """30 random images, put as the last run's test set."""
    rng = np.random.default_rng(0)
    imgs = rng.random((30, 28, 28)).astype(np.float32)
    labels = np.arange(30) % 10
    test = TestSet(imgs, labels, imgs, True, "random images")
    window.gallery_wiring.run_test = test
    return test


def _a_cell(proba, labels) -> tuple[int, int]:
    """The cell of the first image (so it holds one at least)."""
    return int(labels[0]), int(proba[0].argmax())


def test_the_gallery_says_it_reads_then_shows_the_misread_images_of_the_cell(qtbot, window,
                                                                             random_test):
    gw, pred = window.gallery_wiring, GatedPredictor()
    gw.predict = pred
    proba = predictions(window.view_model(), random_test)
    cell = _a_cell(proba, random_test.labels)
    g = gw.open(cell)
    qtbot.addWidget(g)
    assert g.isVisible() and not g.is_ready()
    assert "Reading the 30 test digits (random images)" in g.note.text()
    assert g.grid.count() == 0 and not g.cell_box.isEnabled() and g.cell() == cell
    qtbot.waitUntil(pred.started.is_set, timeout=WAIT_MS)
    # the window is usable while the model reads: the user draws, the drawing is read
    draw_on(window, line(60, 60, 200, 200))
    assert window.canvas.strokes() and not window.canvas.is_empty()
    assert window.reader.network_input().shape[-2:] == (28, 28)
    assert gw.reading() and not g.is_ready()
    pred.gate.set()
    qtbot.waitUntil(g.is_ready, timeout=WAIT_MS)
    expected = misread(proba, random_test.labels, *cell)
    assert g.cell() == cell and list(g.shown) == list(expected)
    assert g.grid.count() == len(expected) >= 1 and g.cell_box.isEnabled()
    assert f"test images of a {cell[0]} read as {cell[1]}" in g.note.text()
    # the same model and test set: another cell is shown at once, without reading again
    other = next(c for c in g.cells if c != cell)
    assert gw.open(other) is g and g.cell() == other and len(pred.calls) == 1
    assert not gw.reading()


def test_a_model_changed_during_the_read_shows_only_the_new_models_results(qtbot, window,
                                                                           random_test, small_model):
    gw, pred = window.gallery_wiring, GatedPredictor()
    gw.predict = pred
    old = window.view_model()
    first = gw.open((1, 1))
    qtbot.waitUntil(pred.started.is_set, timeout=WAIT_MS)
    new = small_model(seed=5)
    window.owner.set_model(new)
    assert window.view_model() is new
    g = gw.open((1, 1))
    qtbot.addWidget(g)
    assert g is not first and g.model is new and not g.is_ready()
    pred.gate.set()                          # the old model's reading ends first, then the new one's
    qtbot.waitUntil(lambda: g.is_ready() and not gw.reading(), timeout=WAIT_MS)
    assert len(pred.calls) == 2 and pred.calls[0] is old and pred.calls[1] is new
    np.testing.assert_allclose(g.proba, predictions(new, random_test))
    assert not np.allclose(g.proba, predictions(old, random_test))


def test_a_failed_reading_is_said_in_the_gallery_and_the_next_opening_reads_again(qtbot, window,
                                                                                  random_test):
    gw, pred = window.gallery_wiring, GatedPredictor(fail="the model's weights are not finite")
    gw.predict = pred
    g = gw.open()
    pred.gate.set()
    qtbot.waitUntil(lambda: bool(g.error), timeout=WAIT_MS)
    text = g.note.text()
    assert "Reading the 30 test digits" in text and "failed" in text
    assert "ValueError: the model's weights are not finite" in text and not g.is_ready()
    pred.fail = ""
    g2 = gw.open()
    qtbot.addWidget(g2)
    qtbot.waitUntil(g2.is_ready, timeout=WAIT_MS)
    assert len(pred.calls) == 2 and g2.confusion.sum() == 30


def test_closing_the_gallery_while_it_reads_then_opening_it_shows_it_read(qtbot, window, random_test):
    gw, pred = window.gallery_wiring, GatedPredictor()
    gw.predict = pred
    g = gw.open()
    qtbot.addWidget(g)
    qtbot.waitUntil(pred.started.is_set, timeout=WAIT_MS)
    g.close()
    pred.gate.set()
    qtbot.waitUntil(lambda: not gw.reading(), timeout=WAIT_MS)
    assert gw.open() is g and g.isVisible() and g.is_ready() and len(pred.calls) == 1


def test_closing_the_window_while_the_gallery_reads_leaves_no_thread(qtbot, window, random_test):
    gw, pred = window.gallery_wiring, GatedPredictor()
    gw.predict = pred
    g = gw.open((0, 0))
    qtbot.waitUntil(pred.started.is_set, timeout=WAIT_MS)
    assert gw.reading()
    pred.gate.set()                          # the reading still runs as the window closes
    window.close()
    assert not window.isVisible()
    assert gw.runner.wait(0)                 # the window waited for it: no thread is left
    qtbot.waitUntil(lambda: not gw.reading(), timeout=WAIT_MS)   # its result arrives: no crash
    assert g.is_ready()


# -- the Runs view ------------------------------------------------------------------------
class GatedFolder:
    """Reads the runs folder as the view does, once the test opens the gate."""

    def __init__(self):
        self.gate, self.started = threading.Event(), threading.Event()
        self.calls = 0

    def __call__(self, runs_dir):
        self.calls += 1
        self.started.set()
        if not self.gate.wait(WAIT_MS / 1000):
            raise TimeoutError("the test never opened the gate")
        return rv._read_folder(runs_dir)


def test_the_runs_view_says_it_reads_the_folder_then_lists_the_runs_and_a_bad_file(qtbot, window):
    view = window.runs_view
    qtbot.waitUntil(lambda: not view.reading(), timeout=WAIT_MS)
    assert view.runs == [] and view.note.text() == "0 runs in the runs folder"
    _recorded(view.runs_dir)
    bad = view.runs_dir / "20260101-000000-article"
    bad.mkdir()
    (bad / "run.json").write_text("{not json")
    folder = view.read_folder = GatedFolder()
    view.refresh()
    assert view.note.text() == "Reading the runs folder…"
    assert "Reading the runs folder" in view.sweeps.empty.text()
    qtbot.waitUntil(folder.started.is_set, timeout=WAIT_MS)
    view.refresh()                           # asked while it reads: these two wait...
    view.refresh()                           # ...and only the newest is read next
    draw_on(window, line(60, 60, 200, 200))  # the window is usable meanwhile
    assert window.canvas.strokes() and view.reading() and view.runs == []
    folder.gate.set()
    qtbot.waitUntil(lambda: not view.reading(), timeout=WAIT_MS)
    assert folder.calls == 2
    assert len(view.runs) == 1 and view.table.rowCount() == 1
    assert view.runs[0].path.parent == runs.default_runs_dir()
    note = view.note.text()
    assert note.startswith("1 run in the runs folder; 1 unreadable:") and "run.json" in note
    assert (bad / "run.json").exists()


def test_closing_the_window_while_the_runs_folder_is_read_leaves_no_thread(qtbot, window):
    view = window.runs_view
    qtbot.waitUntil(lambda: not view.reading(), timeout=WAIT_MS)
    folder = view.read_folder = GatedFolder()
    view.refresh()
    qtbot.waitUntil(folder.started.is_set, timeout=WAIT_MS)
    folder.gate.set()
    window.close()
    assert view.runner.wait(0)
    qtbot.waitUntil(lambda: not view.reading(), timeout=WAIT_MS)
