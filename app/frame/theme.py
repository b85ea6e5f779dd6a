"""View ▸ Theme: the system's palette, a light one or a dark one, and plots that follow it.

:func:`apply_theme` sets the application's palette; :func:`restyle_plots` then restyles the
pyqtgraph views under a widget in place (backgrounds, axes, titles, labels, legends) from
that palette: nothing is recreated.
"""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QObject
from PySide6.QtGui import QActionGroup, QColor, QPalette
from PySide6.QtWidgets import QApplication, QGraphicsSimpleTextItem, QWidget

__all__ = ["THEMES", "ThemeMenu", "apply_theme", "restyle_plots", "dark_palette", "light_palette", "plot_colours"]

THEMES = {"system": "System", "light": "Light", "dark": "Dark"}

_system_palette: QPalette | None = None
_system_style: str | None = None


def light_palette() -> QPalette:
    """A light palette (Fusion's own)."""
    from PySide6.QtWidgets import QStyleFactory
    return QStyleFactory.create("Fusion").standardPalette()


def dark_palette() -> QPalette:
    """A dark palette with light text, readable links and highlights."""
    p = QPalette()
    window, base, text = QColor(45, 45, 48), QColor(30, 30, 32), QColor(230, 230, 230)
    for group in (QPalette.Active, QPalette.Inactive):
        p.setColor(group, QPalette.Window, window)
        p.setColor(group, QPalette.WindowText, text)
        p.setColor(group, QPalette.Base, base)
        p.setColor(group, QPalette.AlternateBase, window)
        p.setColor(group, QPalette.ToolTipBase, QColor(60, 60, 64))
        p.setColor(group, QPalette.ToolTipText, text)
        p.setColor(group, QPalette.Text, text)
        p.setColor(group, QPalette.Button, QColor(55, 55, 58))
        p.setColor(group, QPalette.ButtonText, text)
        p.setColor(group, QPalette.BrightText, QColor(255, 120, 120))
        p.setColor(group, QPalette.Link, QColor(110, 170, 255))
        p.setColor(group, QPalette.Highlight, QColor(64, 128, 200))
        p.setColor(group, QPalette.HighlightedText, QColor(255, 255, 255))
        p.setColor(group, QPalette.Mid, QColor(100, 100, 105))
        p.setColor(group, QPalette.PlaceholderText, QColor(150, 150, 150))
    for role in (QPalette.WindowText, QPalette.Text, QPalette.ButtonText):
        p.setColor(QPalette.Disabled, role, QColor(125, 125, 125))
    p.setColor(QPalette.Disabled, QPalette.Base, window)
    p.setColor(QPalette.Disabled, QPalette.Button, window)
    p.setColor(QPalette.Disabled, QPalette.Window, window)
    return p


def apply_theme(name: str) -> None:
    """Use theme ``name`` ("system", "light" or "dark") for the whole application."""
    global _system_palette, _system_style
    app = QApplication.instance()
    if name not in THEMES:
        raise ValueError(f"unknown theme {name!r}; one of {', '.join(THEMES)}")
    if _system_palette is None:
        _system_palette = QPalette(app.palette())
        _system_style = app.style().name()
    if name == "system":
        if _system_style:
            app.setStyle(_system_style)
        app.setPalette(_system_palette)
    else:
        app.setStyle("Fusion")                 # follows the palette fully on every platform
        app.setPalette(light_palette() if name == "light" else dark_palette())


def plot_colours(widget: QWidget | None = None) -> tuple[QColor, QColor]:
    """``(background, foreground)`` of plots: the palette's Base and Text colours."""
    pal = widget.palette() if widget is not None else QApplication.instance().palette()
    return pal.color(QPalette.Base), pal.color(QPalette.Text)


def restyle_plots(root: QWidget) -> int:
    """Restyle every pyqtgraph view under ``root`` to the current palette; returns how many."""
    bg, fg = plot_colours()
    pg.setConfigOptions(background=bg, foreground=fg)     # for views made later
    views = root.findChildren(pg.GraphicsView)
    for view in views:
        view.setBackground(bg)
        for item in view.scene().items():
            if isinstance(item, pg.AxisItem):
                item.setPen(fg)
                item.setTextPen(fg)
                if item.label is not None:
                    item.label.setDefaultTextColor(fg)
            elif isinstance(item, pg.LabelItem):
                item.setText(item.text, color=fg)
            elif isinstance(item, pg.LegendItem):
                item.setLabelTextColor(fg)
                item.setBrush(pg.mkBrush(bg.red(), bg.green(), bg.blue(), 200))
                item.setPen(pg.mkPen(fg.red(), fg.green(), fg.blue(), 90))
            elif isinstance(item, pg.TextItem):          # (e.g. "your 7" on the Looks like… map)
                item.setColor(fg)
            elif isinstance(item, QGraphicsSimpleTextItem) and item.data(0) != "cell":
                item.setBrush(fg)
    return len(views)


class ThemeMenu(QObject):
    """View ▸ Theme for ``window`` (a :class:`app.main_window.MainWindow`): one checkable
    action a theme, the choice remembered in its preferences.

    Attributes
    ----------
    theme_actions : dict of str to QAction
    """

    def __init__(self, window, menu):
        super().__init__(window)
        self.window = window
        group = QActionGroup(self)
        self.theme_actions = {}
        for name, label in THEMES.items():
            a = menu.addAction(label)
            a.setCheckable(True)
            group.addAction(a)
            a.triggered.connect(lambda _c=False, n=name: self.set_theme(n))
            self.theme_actions[name] = a

    def set_theme(self, name: str, remember: bool = True) -> None:
        """Use theme ``name`` ("system", "light", "dark") for the window and every plot."""
        apply_theme(name)
        self.theme_actions[name].setChecked(True)
        restyle_plots(self.window)
        self.window.prediction.restyle()
        if remember:
            self.window.prefs.set_theme(name)

