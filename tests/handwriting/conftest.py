"""Fixtures of the handwriting tests: a window with the shipped model and a collection in a temporary folder."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

from tests.app.conftest import GATE_TIMEOUT
from tests.helpers import FakePrompts


@pytest.fixture(autouse=True)
def no_thread_left():
    """Every test leaves no worker thread running."""
    from app.threads.jobs import running_threads
    yield
    left = running_threads()
    for t in left:
        t.quit()
        t.wait(int(GATE_TIMEOUT * 1000))
    assert not left, "a worker thread was left running"


@pytest.fixture
def prompts():
    return FakePrompts()


@pytest.fixture
def teach_window(qtbot, tmp_path, prompts):
    import engine
    from app.main_window import MainWindow
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    settings.setValue("collection/path", str(tmp_path / "data" / "collection.npz"))
    w = MainWindow(model=engine.load_model(), settings=settings, prompts=prompts)
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    qtbot.waitExposed(w)
    yield w
    assert w.teach_panel.shutdown(GATE_TIMEOUT)
    w.training_panel.quiet = True
    assert w.training_panel.shutdown(GATE_TIMEOUT)
