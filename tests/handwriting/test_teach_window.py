"""The teach loop in the window: correct -> collection -> fine-tune (checked) -> undo; what the reading says."""
import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from engine.files.data import load_sample
from engine.handwriting import strokes
from engine.handwriting.collection import load_collection
from tests.helpers import draw_strokes


def swapped_3_and_5(model):
    """A copy of ``model`` that reads every 3 as 5 and every 5 as 3 (its output rows swapped)."""
    m = model.copy()
    m.params["W2"][:, [3, 5]] = m.params["W2"][:, [5, 3]]
    m.params["b2"][[3, 5]] = m.params["b2"][[5, 3]]
    return m


def teach_twenty(w, panel, seed=0, slip=False):
    """Teach mode, answered with the digit asked for each time (20 drawings of a simulated writer);
    ``slip``: the first 0 is answered 6 (and a 0 drawn again when asked), so the collection holds a
    drawing the model does not read as labelled (a model that reads all its drawings right has
    nothing to learn and is not tuned)."""
    rng = np.random.default_rng(seed)
    writer = strokes.random_writer(rng)
    panel.toggle_teach()
    for d in range(10):
        for k in range(2):
            draw_strokes(w.canvas, strokes.draw(writer.styles[d], rng))
            panel.digit_buttons[6 if slip and d == 0 and k == 0 else d].click()
    if slip:                                  # the 0 answered 6 is asked for again
        draw_strokes(w.canvas, strokes.draw(writer.styles[0], rng))
        panel.digit_buttons[0].click()
    assert not panel.teaching()


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


def test_the_key_pressed_sets_the_label_in_teach_mode(teach_window, tmp_path):
    """Asked for a 0, the user draws a 7 and presses 7: it is kept as a 7, and a 0 is still asked for."""
    w, panel = teach_window, teach_window.teach_panel
    rng = np.random.default_rng(0)
    panel.toggle_teach()
    assert "<b>0</b>" in panel.ask_label.text()
    draw_strokes(w.canvas, strokes.draw("7-plain", rng))
    w.canvas.setFocus()
    QTest.keyClick(w.canvas, Qt.Key_7)
    assert list(load_collection(tmp_path / "data" / "collection.npz").labels) == [7]
    assert w.canvas.is_empty() and "<b>0</b>" in panel.ask_label.text() and "2 of 20" in panel.ask_label.text()
    assert "asked for a 0" in w.statusBar().currentMessage()
    assert "(1 drawing in your collection)" in w.statusBar().currentMessage()      # one, singular
    draw_strokes(w.canvas, strokes.draw("0-oval", rng))
    panel.digit_buttons[0].click()
    assert list(panel.collection.labels) == [7, 0] and "<b>0</b>" in panel.ask_label.text()   # the second 0
    assert "3 of 20" in panel.ask_label.text()


def test_teach_mode_keeps_each_drawing_with_its_strokes(teach_window, tmp_path):
    w, panel = teach_window, teach_window.teach_panel
    teach_twenty(w, panel)
    saved = load_collection(tmp_path / "data" / "collection.npz")
    assert list(saved.counts()) == [2] * 10
    assert saved.has_strokes().all()
    first = saved.strokes[0]
    assert first[0].points.shape[1] == 2 and first[0].width == w.canvas.brush_width()
    # a double-click on a drawing of the gallery puts its strokes back on the canvas
    w.canvas.clear()
    assert panel.view.show_drawing(0)
    assert len(w.canvas.strokes()) == len(first) and not w.canvas.is_empty()


def test_a_drawing_can_be_relabelled_in_the_gallery(teach_window, tmp_path):
    w, panel = teach_window, teach_window.teach_panel
    rng = np.random.default_rng(3)
    for d in (2, 4):
        draw_strokes(w.canvas, strokes.draw(strokes.styles_of(7)[0], rng))
        panel.correct(d)                                  # the 7s kept by mistake as a 2 and a 4
    view = panel.view
    view.select([0, 1])
    assert view.relabel_selected(7) == 2
    assert list(load_collection(tmp_path / "data" / "collection.npz").labels) == [7, 7]
    assert view.model.data(view.model.index(0)) == "7"
    assert "7: 2" in panel.ask_label.text()


def test_undo_is_there_after_the_replace_question(teach_window, qtbot, prompts):
    """The current model is unsaved, so keeping the fine-tuned one asks first; while that question
    is open the fine-tuning's thread ends. Undo fine-tuning is then available, and puts back the
    model it replaced, still unsaved."""
    w, panel = teach_window, teach_window.teach_panel
    ds = load_sample()
    panel.check = (ds.test_images[:200] / 255.0, ds.test_labels[:200])
    confused = swapped_3_and_5(w.owner.model())
    w.owner.set_model(confused, unsaved=True)
    teach_twenty(w, panel)

    def ask_while_the_thread_ends(text, question):         # a modal dialog runs the event loop
        prompts.asked.append(("ask_save", question))
        with qtbot.waitSignal(panel.worker.finished, timeout=60000):
            pass
        return "discard"
    w.owner.ask = ask_while_the_thread_ends
    with qtbot.waitSignal(panel.tuned, timeout=120000) as sig:
        assert panel.start_finetune()
    w.owner.ask = prompts.ask_save
    tuned = sig.args[0]
    assert ("ask_save", "Replace it with the fine-tuned model?") in prompts.asked
    assert tuned.model is not None and w.owner.model() is tuned.model and w.owner.is_unsaved()
    assert tuned.guard.held_out > tuned.guard.before            # it learned that a 3 is a 3
    assert "kept" in panel.result_label.text() and "Forgetting meter" in panel.result_label.text()
    qtbot.waitUntil(lambda: panel.finetune_button.isEnabled(), timeout=10000)
    assert panel.undo_button.isEnabled()
    # another model made current (File > Open, Revert): nothing to undo; the tuned one back: Undo again
    assert w.owner.replace(w.owner.model().copy())
    assert not panel.undo_button.isEnabled() and not panel.undo()
    assert w.owner.replace(tuned.model, unsaved=True) and panel.undo_button.isEnabled()
    assert panel.undo()
    assert w.owner.model() is confused and w.owner.is_unsaved() and not panel.undo_button.isEnabled()


def finetune_left_unchanged(w, panel, qtbot) -> str:
    """Fine-tune from the tab, check that no model came of it and nothing changed; the tab's text."""
    before = w.owner.model()
    with qtbot.waitSignal(panel.tuned, timeout=120000) as sig:
        assert panel.start_finetune()
    assert sig.args[0].model is None
    qtbot.waitUntil(lambda: panel.finetune_button.isEnabled(), timeout=10000)
    assert w.owner.model() is before and not w.owner.is_unsaved() and not panel.undo_button.isEnabled()
    return panel.result_label.text()


def test_a_tuning_that_would_harm_is_not_kept_and_said(teach_window, qtbot):
    """A fine-tuning that reads the user's own drawings worse (checked on drawings it did not
    learn) leaves the model as it was, and the panel says so and why."""
    w, panel = teach_window, teach_window.teach_panel
    ds = load_sample()
    panel.check = (ds.test_images[:100] / 255.0, ds.test_labels[:100])
    from .test_collection_engine import harmful
    panel.finetune_settings = harmful()             # replayed digits labelled one off: it reads worse
    teach_twenty(w, panel, seed=1, slip=True)
    text = finetune_left_unchanged(w, panel, qtbot)
    assert "not kept" in text and "worse" in text and "fewer" in text and "unchanged" in text


def test_a_collection_read_all_right_is_not_tuned_and_said(teach_window, qtbot):
    """Twenty drawings the model already reads right: nothing to learn, no tuning, and the tab says so."""
    w, panel = teach_window, teach_window.teach_panel
    teach_twenty(w, panel, seed=1)
    text = finetune_left_unchanged(w, panel, qtbot)
    assert "Not fine-tuned" in text and "all 20" in text and "unchanged" in text
