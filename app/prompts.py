"""Every question and message the window puts to the user, in one replaceable object.

The window and the training panel never open a dialog themselves: they call a
:class:`Prompts`. Tests (and scripts) give them a stand-in with the same methods that
answers from a script and records what was asked.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

__all__ = ["Prompts", "SAVE", "DISCARD", "CANCEL"]

SAVE, DISCARD, CANCEL = "save", "discard", "cancel"


class Prompts:
    """Modal questions, file choosers and messages, parented to ``parent``.

    Parameters
    ----------
    parent : QWidget or None
    """

    def __init__(self, parent: QWidget | None = None):
        self.parent = parent
        self._notes: list[QMessageBox] = []

    # -- questions ------------------------------------------------------------------
    def ask_save(self, text: str, question: str) -> str:
        """Save, discard or cancel: :data:`SAVE`, :data:`DISCARD` or :data:`CANCEL`."""
        box = QMessageBox(QMessageBox.Warning, "Unsaved model", text, parent=self.parent)
        box.setInformativeText(question)
        box.setStandardButtons(QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel)
        box.setDefaultButton(QMessageBox.Save)
        answer = box.exec()
        return {QMessageBox.Save: SAVE, QMessageBox.Discard: DISCARD}.get(answer, CANCEL)

    def confirm(self, title: str, text: str) -> bool:
        """A yes/no question; No is the default."""
        answer = QMessageBox.question(self.parent, title, text, QMessageBox.Yes | QMessageBox.No,
                                      QMessageBox.No)
        return answer == QMessageBox.Yes

    # -- files --------------------------------------------------------------------------
    def open_file(self, title: str, start: str, filters: str) -> str:
        """A file to open, or "" when cancelled."""
        return QFileDialog.getOpenFileName(self.parent, title, start, filters)[0]

    def save_file(self, title: str, start: str, filters: str) -> str:
        """A file to write, or "" when cancelled (the dialog asks before overwriting the name
        typed; a suffix added afterwards is checked by the caller)."""
        return QFileDialog.getSaveFileName(self.parent, title, start, filters)[0]

    def folder(self, title: str, start: str) -> str:
        """A folder, or "" when cancelled."""
        return QFileDialog.getExistingDirectory(self.parent, title, start)

    # -- messages -----------------------------------------------------------------------
    def error(self, title: str, text: str) -> None:
        """Something failed (modal)."""
        QMessageBox.critical(self.parent, title, text)

    def note(self, title: str, text: str, *, warning: bool = False) -> None:
        """A message that does not block (training ended badly, a download failed...)."""
        box = QMessageBox(QMessageBox.Warning if warning else QMessageBox.Information, title, text,
                          QMessageBox.Ok, self.parent)
        box.setAttribute(Qt.WA_DeleteOnClose, True)
        box.setModal(False)
        box.finished.connect(lambda _r, b=box: self._notes.remove(b) if b in self._notes else None)
        self._notes.append(box)
        box.show()
