"""The main window's additions for a first impression that holds: Edit ▸ Redo and the
undo/clear states, File ▸ Revert to the Shipped Model, the shipped model in Open Recent,
which model reads the drawing, View ▸ Reset Layout and View ▸ Theme, Help ▸ Guide and
Help ▸ Keyboard Shortcuts, a window sized to its screen, and the side-by-side readings
while preprocessing is off.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QPushButton

from engine.preprocess import to_mnist

from .help import GuideDialog, ShortcutsDialog
from .screen_fit import fit_docks, is_compact
from .theme import THEMES, apply_theme, restyle_plots

__all__ = ["WindowExtras", "fit_size"]


def fit_size(available) -> tuple[int, int]:
    """The window's first size on a screen whose available area is ``available`` (QRect):
    all of it up to 1366x768 (logical pixels), then 92% of it, at most 1800x1100."""
    w, h = available.width(), available.height()
    if w <= 1366 or h <= 768:
        return w, h
    return min(int(w * 0.92), 1800), min(int(h * 0.92), 1100)


BELOW_NEEDS = 900
"""The window height (logical pixels) from which the Timeline and Runs docks go below the
drawing: under it, a dock below leaves the Train tab's plots and the Runs table too low to read."""


class WindowExtras(QObject):
    """Adds its actions to ``window`` (a :class:`app.main_window.MainWindow`) and keeps them current.

    Attributes
    ----------
    act_redo, act_revert, act_reset_layout, act_guide, act_shortcuts : QAction
    theme_actions : dict of str to QAction
    """

    def __init__(self, window):
        super().__init__(window)
        self.w = w = window
        self._status_busy = False
        self.act_redo = self._act("&Redo", w.canvas.redo, [QKeySequence.Redo, QKeySequence("Ctrl+Y")],
                                  "Bring back the change undone last")
        self.act_revert = self._act("Revert to the S&hipped Model", self.revert_to_shipped, None,
                                    "Go back to the model Digitlab ships with (asks first if the "
                                    "current one is unsaved)")
        self.act_reset_layout = self._act("Reset &Layout", self.reset_layout, None,
                                          "Put the docks back where they were and fit the window "
                                          "to the screen")
        self.act_guide = self._act("Digitlab &Guide", self.show_guide, QKeySequence.HelpContents,
                                   "How to use Digitlab: every view, menu and key")
        self.act_shortcuts = self._act("&Keyboard Shortcuts", self.show_shortcuts, "Ctrl+/",
                                       "Every keyboard shortcut of the window")
        self._menus()
        c = w.canvas
        c.historyChanged.connect(self._history)
        self._buttons = {b.text(): b for b in w.findChildren(QPushButton) if b.text() in ("Undo", "Clear")}
        self._history()
        w.owner.modelChanged.connect(lambda _m: self._model_name())
        w.owner.stateChanged.connect(self._model_name)
        w.recent_menu.aboutToShow.connect(self._add_shipped_to_recent)
        w.statusBar().messageChanged.connect(self._fit_status)
        fit_docks(w)            # every dock scrolls vertically only and fits its width
        w.splitter.setChildrenCollapsible(False)     # (the canvas never vanishes)
        if not w._geometry_restored:        # (none saved, or saved for another screen)
            self.fit_to_screen()
        if not w._restored:
            self.place_bottom_docks()
        self.set_theme(w.prefs.theme(), remember=False)

    # ---------------------------------------------------------------- actions and menus
    def _act(self, text, slot, shortcut, tip) -> QAction:
        a = QAction(text, self.w)
        if shortcut is not None:
            a.setShortcuts([QKeySequence(k) for k in shortcut] if isinstance(shortcut, list)
                           else [QKeySequence(shortcut)])
        a.setStatusTip(tip)
        a.setToolTip(tip)
        a.triggered.connect(lambda _checked=False: slot())
        return a

    def _menu(self, title: str):
        for a in self.w.menuBar().actions():
            if a.menu() is not None and a.text().replace("&", "") == title:
                return a.menu()
        return self.w.menuBar().addMenu(title)

    def _menus(self) -> None:
        w = self.w
        file_menu = self._menu("File")
        file_menu.insertAction(w.recent_menu.menuAction(), self.act_revert)
        self._menu("Edit").insertAction(w.act_clear, self.act_redo)
        view = self._menu("View")
        view.addSeparator()
        theme_menu = view.addMenu("&Theme")
        group = QActionGroup(self)
        self.theme_actions = {}
        for name, label in THEMES.items():
            a = theme_menu.addAction(label)
            a.setCheckable(True)
            group.addAction(a)
            a.triggered.connect(lambda _c=False, n=name: self.set_theme(n))
            self.theme_actions[name] = a
        view.addAction(self.act_reset_layout)
        help_menu = self._menu("Help")
        first = help_menu.actions()[0] if help_menu.actions() else None
        help_menu.insertAction(first, self.act_guide)
        help_menu.insertAction(first, self.act_shortcuts)
        help_menu.insertSeparator(first)

    # ---------------------------------------------------------------- drawing history
    def _history(self) -> None:
        c = self.w.canvas
        undo, redo, clear = c.can_undo(), c.can_redo(), not c.is_empty()
        self.w.act_undo.setEnabled(undo)
        self.act_redo.setEnabled(redo)
        self.w.act_clear.setEnabled(clear)
        if "Undo" in self._buttons:
            self._buttons["Undo"].setEnabled(undo)
        if "Clear" in self._buttons:
            self._buttons["Clear"].setEnabled(clear)

    # ---------------------------------------------------------------- the model
    def revert_to_shipped(self) -> bool:
        """Read with the shipped model again (asks first if the current model is unsaved)."""
        w = self.w
        if w.owner.is_training():
            w.prompts.error("Cannot revert", "A run is training: stop it before reverting.")
            return False
        try:
            import engine
            model = w._checked(engine.load_model())
        except Exception as e:         # noqa: BLE001 - said, and the current model stays
            w.prompts.error("Cannot revert", f"Could not load the shipped model:\n{e}")
            return False
        if not w.owner.replace(model, shipped=True, question="Revert to the shipped model anyway?"):
            return False
        w.prefs.forget_last_model()
        w.statusBar().showMessage("Reverted to the shipped model", 8000)
        return True

    def model_name(self) -> str:
        """What the window says about the model that reads the drawing."""
        o = self.w.owner
        m = o.view_model()
        if m is None:
            return "no model"
        if o.is_training():
            return f"the model in training ({m.config.kernels} kernels)"
        if o.live() is not None:                  # a point of the timeline, scrubbed back to
            return self._timeline_point()
        if o.is_shipped():
            return "the shipped model"
        name = o.path() or m.name or "unnamed model"
        return name + (" (unsaved)" if o.is_unsaved() else "")

    def _timeline_point(self) -> str:
        tp = getattr(self.w, "timeline_panel", None)
        tl = getattr(tp, "timeline", None)
        if tl is None or not len(tl):
            return "a snapshot of a run"
        where = f"{tp.source}, " if tp.source else ""
        return f"the timeline ({where}{tl[tp.index()].label.replace('iteration', tp.unit)})"

    def _model_name(self) -> None:
        self.w.prediction.set_model_name(self.model_name())

    def _add_shipped_to_recent(self) -> None:
        menu = self.w.recent_menu
        first = menu.actions()[0] if menu.actions() else None
        if first is not None and first.text() == "(none)":
            menu.removeAction(first)
            first = menu.actions()[0] if menu.actions() else None
        a = QAction("The &Shipped Model", menu)
        a.setToolTip("The model Digitlab ships with")
        a.triggered.connect(lambda _c=False: self.revert_to_shipped())
        menu.insertAction(first, a)
        if first is not None:
            menu.insertSeparator(first)

    # ---------------------------------------------------------------- layout
    def fit_to_screen(self) -> None:
        screen = self.w.screen()
        if screen is None:
            return
        avail = screen.availableGeometry()
        width, height = fit_size(avail)
        self.w.resize(width, height)
        self.w.move(avail.x() + (avail.width() - width) // 2, avail.y() + (avail.height() - height) // 2)

    def dock_width(self, proposed: int) -> int:
        """The docks' width: at least what the Train tab needs for its settings beside
        readable plots, as long as the drawing keeps its own minimum; in a narrow window
        (:func:`app.screen_fit.is_compact`) all but :meth:`drawing_width`."""
        w = self.w
        if is_compact(w.width()):
            return max(w.width() - self.drawing_width(), w.width() // 3)
        need = w.training_panel.wide_width() + w.train_scroll.frameWidth() * 2 + 8
        return max(proposed, min(need, w.width() - w.centralWidget().minimumSizeHint().width() - 8))

    def place_bottom_docks(self) -> None:
        """The Timeline and Runs docks below the drawing, or, in a narrow window (where
        below leaves the canvas no room) or a low one (under :data:`BELOW_NEEDS` pixels,
        where below squashes the plots above into smears), tabbed with the docks on the right."""
        w = self.w
        for d in (getattr(w, "timeline_dock", None), getattr(w, "runs_dock", None)):
            if d is None:
                continue
            d.setFloating(False)
            if is_compact(w.width()) or w.height() < BELOW_NEEDS:
                w.addDockWidget(Qt.RightDockWidgetArea, d)
                w.tabifyDockWidget(w.explain_dock, d)
            else:
                w.addDockWidget(Qt.BottomDockWidgetArea, d)

    def drawing_width(self) -> int:
        """The drawing area's width in the compact layout: a square canvas as tall as the
        area allows (at most 30% of the window's width, at least 200 pixels) and the
        prediction at its narrowest."""
        w = self.w
        height = w.centralWidget().height() or w.height() - 60
        side = max(200, min(height - 110, int(w.width() * 0.3)))
        pred = max(w.prediction.minimumWidth(), w.prediction.minimumSizeHint().width())
        return side + 12 + pred + w.splitter.handleWidth() + 16

    def reset_layout(self) -> None:
        """Every dock back on the right, tabbed, "What the net sees" in front; the window fitted."""
        w = self.w
        w.showNormal()
        self.fit_to_screen()
        docks = (w.net_dock, w.train_dock, w.explain_dock, w.teach_dock)
        for d in docks:
            d.setFloating(False)
            w.addDockWidget(Qt.RightDockWidgetArea, d)
            d.show()
        for a, b in zip(docks, docks[1:]):
            w.tabifyDockWidget(a, b)
        self.place_bottom_docks()
        w.net_dock.raise_()
        w.prefs.forget_layout()
        QTimer.singleShot(0, w._default_layout)

    def _fit_status(self, text: str) -> None:
        """A status message longer than its room is cut with an ellipsis (whole in the tooltip)."""
        if self._status_busy or not text or not self.w.isVisible():
            return
        bar = self.w.statusBar()
        room = bar.width() - self.w.status_model.width() - 40
        elided = bar.fontMetrics().elidedText(text, Qt.ElideRight, max(room, 80))
        bar.setToolTip(text)
        if elided != text:
            self._status_busy = True
            bar.showMessage(elided, 15000)
            self._status_busy = False

    # ---------------------------------------------------------------- theme
    def set_theme(self, name: str, remember: bool = True) -> None:
        """Use theme ``name`` ("system", "light", "dark") for the window and every plot."""
        apply_theme(name)
        self.theme_actions[name].setChecked(True)
        restyle_plots(self.w)
        self.w.prediction.restyle()
        if remember:
            self.w.prefs.set_theme(name)

    # ---------------------------------------------------------------- help
    def show_guide(self) -> GuideDialog:
        d = GuideDialog(self.w)
        d.show()
        self._guide = d
        return d

    def show_shortcuts(self) -> ShortcutsDialog:
        d = ShortcutsDialog(self.w)
        d.show()
        self._shortcuts = d
        return d

    # ---------------------------------------------------------------- readings
    def read_when_ready(self) -> None:
        """Read the drawing, or, while the first reading's compile runs, try again shortly
        (the event loop stays free: every mouse move of a stroke reaches the canvas)."""
        if self.w.warmup.is_done():
            self.w.classify_now()
        else:
            self.w._timer.start()

    def explain_shown(self) -> bool:
        """Whether the Why? dock is on screen (not a tab behind another dock)."""
        d = self.w.explain_dock
        return d.isVisible() and not d.visibleRegion().isEmpty()

    def reading_changed(self, x: np.ndarray, proba) -> None:
        """After each reading: with preprocessing off and ink on the canvas, show the
        preprocessed input and its reading beside the raw one."""
        w = self.w
        if proba is None or w.act_preprocess.isChecked():
            w.prediction.show_comparison(None, None)
            return
        pre = to_mnist(w.canvas.image(), preprocess=True)
        p_pre = w.owner.view_model().see(pre).proba[0]
        w.prediction.show_comparison((pre, p_pre), (x, proba))
