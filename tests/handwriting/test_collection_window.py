"""The collection in the Teach tab: gallery, export/import, the limit stated before it bites, a file
over the limit never overwritten, large collections saved off the GUI thread."""
import numpy as np
import pytest

from engine.handwriting import collection as collection_file
from engine.handwriting import strokes
from engine.handwriting.collection import Collection, load_collection, save_collection

from tests.helpers import draw_strokes


def some(n, seed=0):
    """``n`` different drawings (random ink) with digits."""
    rng = np.random.default_rng(seed)
    return Collection(rng.random((n, 28, 28)) * (rng.random((n, 28, 28)) > 0.7), np.arange(n) % 10)


@pytest.fixture
def small_limit(monkeypatch):
    """A collection holds at most 30 drawings (the real limit is 100,000)."""
    monkeypatch.setattr(collection_file, "MAX_DRAWINGS", 30)
    return 30


def test_gallery_remove_export_import(teach_window, tmp_path, prompts, qtbot):
    w, panel = teach_window, teach_window.teach_panel
    rng = np.random.default_rng(1)
    for d in (1, 4):
        draw_strokes(w.canvas, strokes.draw(strokes.styles_of(d)[0], rng))
        panel.correct(d)
    view = panel.view
    assert view.count() == 2
    prompts.answers["save_file"] = str(tmp_path / "export.npz")
    assert view.export()
    view.select([0])
    assert view.remove_selected() == 1
    assert list(load_collection(panel.path).labels) == [4]
    with qtbot.waitSignal(view.imported, timeout=20000) as sig:
        assert view.import_(str(tmp_path / "export.npz"))
    assert sig.args == [1]                                    # the 4 is there already
    assert sorted(load_collection(panel.path).labels) == [1, 4]
    assert load_collection(panel.path).has_strokes().all()     # the strokes came back with the 1
    with qtbot.waitSignal(view.importer.finished, timeout=20000):
        assert view.import_(str(tmp_path / "settings.ini"))
    assert any("settings.ini" in t for t in prompts.texts("error"))
    assert view.clear_all() and len(load_collection(panel.path)) == 0


def test_the_limit_is_stated_and_an_import_past_it_asks_first(small_limit, teach_window, tmp_path, prompts,
                                                             qtbot):
    panel, view = teach_window.teach_panel, teach_window.teach_panel.view
    assert "at most 30" in view.count_label.text()
    save_collection(some(25), tmp_path / "mine.npz")
    save_collection(some(20, seed=1), tmp_path / "big.npz")
    with qtbot.waitSignal(view.imported, timeout=20000):
        view.import_(str(tmp_path / "mine.npz"))
    assert len(panel.collection) == 25
    prompts.answers["confirm"] = False                         # "Import only the first 5?" No
    with qtbot.waitSignal(view.imported, timeout=20000) as sig:
        view.import_(str(tmp_path / "big.npz"))
    assert sig.args == [0] and len(load_collection(panel.path)) == 25
    question = prompts.texts("confirm")[-1]
    assert "20 drawings" in question and "at most 30" in question and "first 5" in question
    prompts.answers["confirm"] = True
    with qtbot.waitSignal(view.imported, timeout=20000) as sig:
        view.import_(str(tmp_path / "big.npz"))
    assert sig.args == [5] and len(load_collection(panel.path)) == 30
    # full: another import is refused at once, saying the limit; so is keeping one more drawing
    assert not view.import_(str(tmp_path / "big.npz"))
    assert "full" in prompts.texts("error")[-1] and "30" in prompts.texts("error")[-1]
    draw_strokes(teach_window.canvas, strokes.draw("1-stick", np.random.default_rng(0)))
    assert not panel.correct(1)
    assert "full" in prompts.texts("error")[-1] and len(load_collection(panel.path)) == 30


def test_a_collection_file_over_the_limit_is_never_overwritten(qtbot, tmp_path, prompts, monkeypatch):
    """100,005 drawings in a file (here 35 over a limit of 30): it is refused at start with a
    message, and keeping one drawing moves it aside instead of writing over it."""
    import engine
    from PySide6.QtCore import QSettings

    from app.main_window import MainWindow
    from tests.app.conftest import GATE_TIMEOUT
    path = tmp_path / "data" / "collection.npz"
    save_collection(some(35), path)
    monkeypatch.setattr(collection_file, "MAX_DRAWINGS", 30)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    settings.setValue("collection/path", str(path))
    w = MainWindow(model=engine.load_model(), settings=settings, prompts=prompts)
    qtbot.addWidget(w)
    w.show()
    panel = w.teach_panel
    try:
        assert any("at most 30" in t and "kept as it is" in t for t in prompts.texts("error"))
        draw_strokes(w.canvas, strokes.draw("1-stick", np.random.default_rng(0)))
        assert panel.correct(1)
        aside = path.with_name("collection.unreadable-1.npz")
        assert any(str(aside) in t for t in prompts.texts("note"))
        assert len(load_collection(path)) == 1
        monkeypatch.setattr(collection_file, "MAX_DRAWINGS", 100_000)
        assert len(load_collection(aside)) == 35                  # all 35 still there
    finally:
        assert panel.shutdown(GATE_TIMEOUT)
        w.training_panel.quiet = True
        assert w.training_panel.shutdown(GATE_TIMEOUT)


def test_a_large_collection_is_saved_off_the_gui_thread(teach_window, tmp_path, qtbot, monkeypatch):
    import app.teach.panel
    monkeypatch.setattr(app.teach.panel, "BACKGROUND_SAVE_AT", 3)
    w, panel = teach_window, teach_window.teach_panel
    rng = np.random.default_rng(2)
    for d in range(4):
        draw_strokes(w.canvas, strokes.draw(strokes.styles_of(d)[0], rng))
        assert panel.correct(d)
    qtbot.waitUntil(lambda: not panel.saving(), timeout=20000)
    assert list(load_collection(panel.path).labels) == [0, 1, 2, 3]


def test_pen_recordings_export_and_import_in_the_gallery(teach_window, tmp_path, prompts, qtbot):
    w, panel = teach_window, teach_window.teach_panel
    rng = np.random.default_rng(4)
    for d in (2, 5):
        draw_strokes(w.canvas, strokes.draw(strokes.styles_of(d)[0], rng))
        panel.correct(d)
    view = panel.view
    prompts.answers["save_file"] = str(tmp_path / "mine.unipen.gz")
    assert view.export()
    assert "2 drawings written as pen strokes" in w.statusBar().currentMessage()
    assert view.clear_all() and view.count() == 0
    with qtbot.waitSignal(view.imported, timeout=20000) as sig:
        assert view.import_(str(tmp_path / "mine.unipen.gz"))
    assert sig.args == [2] and list(load_collection(panel.path).labels) == [2, 5]
    assert "2 imported" in view.count_label.text()
    (tmp_path / "broken.unipen").write_text('.SEGMENT DIGIT 0 ? "7"\n.PEN_DOWN\n 1 x\n')
    with qtbot.waitSignal(view.imported, timeout=20000) as sig:
        view.import_(str(tmp_path / "broken.unipen"))
    assert sig.args == [0] and "broken.unipen" in prompts.texts("error")[-1]
