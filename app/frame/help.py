"""Help ▸ Guide (the user guide, ``docs/app.md``, shown in the window), Help ▸ Keyboard
Shortcuts (read from the window's own actions, so it is never out of date) and the About box.

The wheel does not ship ``docs/``: the guide is read from ``resources/guide.md``, a copy of
``docs/app.md`` that a test keeps identical.
"""
from __future__ import annotations

import platform
import re

import numpy as np
import pyqtgraph as pg

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QTableWidget, QTableWidgetItem, QTextBrowser,
                               QVBoxLayout, QWidget)

from engine.files.resources import resource

__all__ = ["guide_text", "shortcuts", "about_text", "GuideDialog", "ShortcutsDialog", "GUIDE"]

GUIDE = "guide.md"


def guide_text() -> str:
    """The guide as Markdown, images left out (the screenshots are not shipped); if the
    file is missing, a line saying so and where the guide is in the source."""
    path = resource(GUIDE)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        return (f"The guide could not be read ({path.name}: {e.strerror or e}). It is "
                "`docs/app.md` in Digitlab's source.")
    return re.sub(r"!\[[^\]]*\]\([^)]*\)\n?", "", text)


def shortcuts(window: QWidget) -> list[tuple[str, str]]:
    """``(action, keys)`` of every action of ``window`` (and its children) with a shortcut,
    in menu order where they are in a menu, keys in the platform's native text."""
    seen, rows = set(), []
    menus = [a.menu() for a in window.menuBar().actions() if a.menu() is not None] \
        if hasattr(window, "menuBar") else []

    def walk(actions):
        for a in actions:
            if a.menu() is not None and a.menu() not in menus:
                walk(a.menu().actions())
            add(a)

    def add(a: QAction):
        keys = [k for k in a.shortcuts() if not k.isEmpty()]
        if not keys or id(a) in seen:
            return
        seen.add(id(a))
        name = a.text().replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip("…").strip()
        rows.append((name, ", ".join(k.toString(QKeySequence.NativeText) for k in keys)))

    for m in menus:
        walk(m.actions())
    for a in window.findChildren(QAction):
        add(a)
    return rows


class GuideDialog(QDialog):
    """The guide in a scrolling, searchable text view."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Digitlab Guide")
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(True)
        self.browser.setMarkdown(guide_text())
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.browser, 1)
        lay.addWidget(buttons)
        self.resize(720, 640)


class ShortcutsDialog(QDialog):
    """A table of the window's keyboard shortcuts, plus the canvas's own keys."""

    CANVAS_KEYS = [("Clear the drawing (on the canvas)", "Delete, Backspace, Escape")]

    def __init__(self, window, parent=None):
        super().__init__(parent or window)
        self.setWindowTitle("Keyboard Shortcuts")
        rows = shortcuts(window) + self.CANVAS_KEYS
        self.table = QTableWidget(len(rows), 2)
        self.table.setHorizontalHeaderLabels(["Action", "Keys"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        for i, (name, keys) in enumerate(rows):
            self.table.setItem(i, 0, QTableWidgetItem(name))
            self.table.setItem(i, 1, QTableWidgetItem(keys))
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.table, 1)
        lay.addWidget(buttons)
        self.resize(520, 560)
        self.setAttribute(Qt.WA_DeleteOnClose, False)


def about_text() -> str:
    """The About box's text: what Digitlab is and the versions it runs with."""
    import PySide6
    from PySide6.QtCore import qVersion
    import engine
    return (
        "<h3>Digitlab</h3>"
        "<p>Draw a digit and watch a small convolutional network — written from scratch in "
        "NumPy after an article — read it, and see what each of its kernels sees.</p>"
        "<table>"
        f"<tr><td>Digitlab</td><td>{engine.__version__}</td></tr>"
        f"<tr><td>Python</td><td>{platform.python_version()}</td></tr>"
        f"<tr><td>Qt</td><td>{qVersion()}</td></tr>"
        f"<tr><td>PySide6</td><td>{PySide6.__version__}</td></tr>"
        f"<tr><td>pyqtgraph</td><td>{pg.__version__}</td></tr>"
        f"<tr><td>NumPy</td><td>{np.__version__}</td></tr>"
        "</table>")
