"""Edit ▸ Redo, and Undo, Redo and Clear enabled only when they would do something."""
from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QKeySequence

from .actions import make_action

__all__ = ["UndoRedo"]


class UndoRedo(QObject):
    """Keeps the undo, redo and clear actions and buttons of a canvas current.

    Parameters
    ----------
    canvas : app.reading.canvas.DrawingCanvas
    undo, clear : QAction
        The window's Edit ▸ Undo Stroke and Clear Drawing.
    buttons : iterable of QPushButton
        Buttons that undo (text "Undo") or clear (text "Clear") the canvas.

    Attributes
    ----------
    act_redo : QAction
        Edit ▸ Redo (Ctrl+Shift+Z, Ctrl+Y).
    """

    def __init__(self, canvas, undo, clear, buttons=(), parent=None):
        super().__init__(parent)
        self.canvas, self.act_undo, self.act_clear = canvas, undo, clear
        self.act_redo = make_action(parent, "&Redo", canvas.redo, [QKeySequence.Redo, "Ctrl+Y"],
                                    "Bring back the change undone last")
        self._buttons = {b.text(): b for b in buttons}
        canvas.historyChanged.connect(self.update)
        self.update()

    def update(self) -> None:
        c = self.canvas
        undo, redo, clear = c.can_undo(), c.can_redo(), not c.is_empty()
        self.act_undo.setEnabled(undo)
        self.act_redo.setEnabled(redo)
        self.act_clear.setEnabled(clear)
        if "Undo" in self._buttons:
            self._buttons["Undo"].setEnabled(undo)
        if "Clear" in self._buttons:
            self._buttons["Clear"].setEnabled(clear)
