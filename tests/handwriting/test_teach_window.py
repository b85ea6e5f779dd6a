"""The teach loop in the window: correct -> collection -> fine-tune -> undo; what the reading says."""
import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from engine import strokes
from engine.collection import load_collection
from engine.data import load_sample
from tests.helpers import draw_strokes


def test_blank_canvas_shows_no_reading(teach_window):
    w = teach_window
    w.canvas.clear()
    w.classify_now()
    assert w.prediction.digit.text().strip() == "" and w.reading.proba is None


def test_unsure_names_the_runner_up(teach_window):
    p = np.full(10, 0.02)
    p[3], p[5] = 0.45, 0.39
    teach_window.prediction.update_prediction(p, np.zeros((28, 28)), empty=False)
    text = teach_window.prediction.caption.text()
    assert "not sure" in text and "3" in text and "5" in text


def test_a_scribble_of_dots_is_not_a_digit(teach_window):
    w = teach_window
    draw_strokes(w.canvas, [np.array([[60, 60], [61, 61]]), np.array([[200, 90], [201, 91]]),
                     np.array([[120, 220], [121, 221]])])
    w.classify_now()
    assert "not a digit" in w.prediction.caption.text()


def test_correct_teach_finetune_undo(teach_window, qtbot, tmp_path):
    w, panel = teach_window, teach_window.teach_panel
    ds = load_sample()
    panel.check = (ds.test_images[:200] / 255.0, ds.test_labels[:200])     # a quick forgetting meter
    rng = np.random.default_rng(0)
    writer = strokes.random_writer(rng)
    # "That's wrong - it's a 7": the digit key on the canvas keeps the drawing
    draw_strokes(w.canvas, strokes.draw(writer.styles[7], rng))
    w.canvas.setFocus()
    QTest.keyClick(w.canvas, Qt.Key_7)
    assert len(panel.collection) == 1 and panel.collection.labels[0] == 7
    assert w.canvas.is_empty()
    # Teach mode asks for every digit twice; the buttons keep what is asked for
    panel.toggle_teach()
    for d in range(10):
        for _ in range(2):
            assert f"<b>{d}</b>" in panel.ask_label.text()
            draw_strokes(w.canvas, strokes.draw(writer.styles[d], rng))
            panel.digit_buttons[0].click()
    assert not panel.teaching()
    saved = load_collection(tmp_path / "data" / "collection.npz")
    assert len(saved) == 21 and list(saved.counts()) == [2] * 7 + [3] + [2] * 2
    # fine-tune in the worker: a new current model, before/after shown, undo goes back
    before = w.owner.model()
    with qtbot.waitSignal(panel.tuned, timeout=60000) as sig:
        assert panel.start_finetune()
    tuned = sig.args[0]
    assert w.owner.model() is tuned.model and w.owner.is_unsaved()
    assert tuned.own_after >= tuned.own_before
    assert "Forgetting meter" in panel.result_label.text()
    qtbot.waitUntil(lambda: panel.finetune_button.isEnabled(), timeout=10000)
    assert panel.undo_button.isEnabled()
    assert panel.undo()
    assert w.owner.model() is before and not panel.undo_button.isEnabled()


def test_gallery_remove_export_import(teach_window, tmp_path, prompts):
    w, panel = teach_window, teach_window.teach_panel
    rng = np.random.default_rng(1)
    for d in (1, 4):
        draw_strokes(w.canvas, strokes.draw(strokes.styles_of(d)[0], rng))
        panel.correct(d)
    view = panel.view
    assert view.gallery.count() == 2
    prompts.answers["save_file"] = str(tmp_path / "export.npz")
    assert view.export()
    view.gallery.item(0).setSelected(True)
    assert view.remove_selected() == 1
    assert list(load_collection(panel.path).labels) == [4]
    prompts.answers["open_file"] = str(tmp_path / "export.npz")
    assert view.import_() == 1                       # the 4 is there already
    assert sorted(load_collection(panel.path).labels) == [1, 4]
    prompts.answers["open_file"] = str(tmp_path / "settings.ini")
    assert view.import_() == 0 and prompts.texts("error")
    assert view.clear_all() and len(load_collection(panel.path)) == 0
