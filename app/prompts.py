"""Every question and message the window puts to the user, in one replaceable object.

The window and the training panel never open a dialog themselves: they call a
:class:`Prompts`. Tests (and scripts) give them a stand-in with the same methods that
answers from a script and records what was asked.
"""
from __future__ import annotations

import os

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFileDialog, QLineEdit, QMessageBox, QWidget

__all__ = ["Prompts", "SaveFolderDialog", "SAVE", "DISCARD", "CANCEL"]

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

    def save_folder(self, title: str, start: str) -> str:
        """A folder to write into: an existing one, or the name of a new one typed in a
        folder that exists (not created here: the caller creates it when it writes);
        "" when cancelled."""
        dialog = SaveFolderDialog(self.parent, title, start)
        try:
            return dialog.selectedFiles()[0] if dialog.exec() == QDialog.Accepted else ""
        finally:
            dialog.deleteLater()

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


class SaveFolderDialog(QFileDialog):
    """A folder chooser that also takes the name of a folder not made yet.

    Qt's folder chooser refuses a name that does not exist ("Directory not found") and
    greys its button out; this one takes it when the folder it would be made in exists
    (an existing folder is chosen as in Qt's). The name typed is not created here.
    """

    def __init__(self, parent: QWidget | None, title: str, start: str):
        super().__init__(parent, title, start)
        self.setFileMode(QFileDialog.FileMode.Directory)
        self.setOption(QFileDialog.Option.ShowDirsOnly, True)
        self.setLabelText(QFileDialog.DialogLabel.FileName, "Folder:")
        self.setLabelText(QFileDialog.DialogLabel.Accept, "&Save")
        box = self.findChild(QDialogButtonBox)         # (None when the system's dialog is used)
        self._button = box.button(QDialogButtonBox.Open) if box is not None else None
        if self._button is not None:
            self._keep = _KeepEnabled(self)
            self._button.installEventFilter(self._keep)
            edit = self.findChild(QLineEdit, "fileNameEdit")
            if edit is not None:
                edit.textChanged.connect(lambda _t: self._keep.enable(self._button))

    def new_folder(self) -> str:
        """The folder named when it does not exist yet and could be made (its parent is a
        folder), else ""."""
        files = self.selectedFiles()
        if len(files) != 1 or not files[0]:
            return ""
        path = os.path.normpath(files[0])
        name = os.path.basename(path)
        if os.path.lexists(path) or name in ("", ".", "..") or not os.path.isdir(os.path.dirname(path)):
            return ""
        return path

    def accept(self) -> None:
        if self.new_folder():
            QDialog.accept(self)                         # (Qt's says "Directory not found")
        else:
            super().accept()


class _KeepEnabled(QObject):
    """Keeps a :class:`SaveFolderDialog`'s Save button enabled for a new folder's name (Qt's
    dialog disables it again whenever the selection or the text changes)."""

    def __init__(self, dialog: SaveFolderDialog):
        super().__init__(dialog)
        self.dialog = dialog

    def enable(self, button) -> None:
        if not button.isEnabled() and self.dialog.new_folder():
            button.setEnabled(True)

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.EnabledChange:
            self.enable(watched)
        return False
