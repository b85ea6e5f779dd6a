"""A settings file with a list or a number where a path belongs (issue 20, fault 10)."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings


@pytest.mark.parametrize("value", [["a", "b"], 7, 2.5])
def test_the_window_starts_with_a_list_or_number_where_a_path_belongs(qtbot, tmp_path, prompts, small_model,
                                                                      value):
    from app.main_window import MainWindow
    ini = tmp_path / "settings.ini"
    s = QSettings(str(ini), QSettings.IniFormat)
    for key in ("collection/path", "lastModel", "recentModels", "startDir"):
        s.setValue(key, value)
    s.sync()
    w = MainWindow(model=small_model(), settings=QSettings(str(ini), QSettings.IniFormat), prompts=prompts)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    assert w.isVisible()
