"""Help ▸ Guide (F1) and Help ▸ Keyboard Shortcuts: their actions and dialogs."""
from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QKeySequence

from .actions import make_action
from .help import GuideDialog, ShortcutsDialog

__all__ = ["HelpMenu"]


class HelpMenu(QObject):
    """The guide's and the shortcuts' actions of ``window``; each opens its dialog.

    Attributes
    ----------
    act_guide, act_shortcuts : QAction
    """

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.act_guide = make_action(window, "Digitlab &Guide", self.show_guide, QKeySequence.HelpContents,
                                     "How to use Digitlab: every view, menu and key")
        self.act_shortcuts = make_action(window, "&Keyboard Shortcuts", self.show_shortcuts, "Ctrl+/",
                                         "Every keyboard shortcut of the window")
        self.guide = self.shortcuts = None      # the dialogs shown last

    def show_guide(self) -> GuideDialog:
        self.guide = d = GuideDialog(self.window)
        d.show()
        return d

    def show_shortcuts(self) -> ShortcutsDialog:
        self.shortcuts = d = ShortcutsDialog(self.window)
        d.show()
        return d
