"""The one way a menu action is made: text, slot, shortcuts, tip and icon in one call."""
from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence

__all__ = ["make_action"]


def make_action(parent, text: str, slot, shortcut=None, tip: str | None = None, icon=None) -> QAction:
    """A :class:`QAction` of ``parent`` calling ``slot()`` when triggered.

    Parameters
    ----------
    shortcut : str, QKeySequence, StandardKey or list of them, optional
    tip : str, optional
        The status tip and tooltip.
    icon : QStyle.StandardPixmap, optional
        One of the style's standard icons.
    """
    a = QAction(text, parent)
    if shortcut is not None:
        keys = shortcut if isinstance(shortcut, list) else [shortcut]
        a.setShortcuts([QKeySequence(k) for k in keys])
    if tip:
        a.setStatusTip(tip)
        a.setToolTip(tip)
    if icon is not None:
        a.setIcon(parent.style().standardIcon(icon))
    a.triggered.connect(lambda _checked=False: slot())
    return a
