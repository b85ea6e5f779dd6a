"""Where the window and its docks go: a first size that fits the screen, the width shared
between the drawing and the docks, the Timeline and Runs docks below the drawing (or tabbed
on the right in a narrow or low window), View ▸ Reset Layout, the saved layout restored (only
on the screen it was saved on, and when it fits), and status messages cut to their room.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QTimer

from .screen_fit import fit_docks, is_compact

__all__ = ["WindowLayout", "fit_size", "BOTTOM_MIN_HEIGHT", "BELOW_NEEDS"]

#: The least height a Timeline or Runs dock below the drawing gets when it is shown (its plot
#: and list need it); up to a third of the window's height.
BOTTOM_MIN_HEIGHT = 280

BELOW_NEEDS = 900
"""The window height (logical pixels) from which the Timeline and Runs docks go below the
drawing: under it, a dock below leaves the Train tab's plots and the Runs table too low to read."""


def fit_size(available) -> tuple[int, int]:
    """The window's first size on a screen whose available area is ``available`` (QRect):
    all of it up to 1366x768 (logical pixels), then 92% of it, at most 1800x1100."""
    w, h = available.width(), available.height()
    if w <= 1366 or h <= 768:
        return w, h
    return min(int(w * 0.92), 1800), min(int(h * 0.92), 1100)


class WindowLayout(QObject):
    """Lays out ``window`` (a :class:`app.main_window.MainWindow`, its docks built).

    Attributes
    ----------
    restored : bool
        The saved layout was restored (then the default one is not applied).
    """

    def __init__(self, window):
        super().__init__(window)
        self.w = window
        self.restored = False
        self._first_show = True
        self._status_busy = False
        window.statusBar().messageChanged.connect(self._fit_status)
        for dock in self.bottom_docks():
            dock.visibilityChanged.connect(                     # (after the layout settled)
                lambda shown, d=dock: shown and QTimer.singleShot(0, lambda: self.give_room(d)))

    def bottom_docks(self) -> tuple:
        return (self.w.timeline_dock, self.w.runs_dock)

    def right_docks(self) -> tuple:
        return (self.w.net_dock, self.w.train_dock, self.w.explain_dock, self.w.teach_dock)

    # ---------------------------------------------------------------- start
    def restore(self) -> None:
        """The saved geometry and dock state, else a size that fits the screen. A layout saved
        on another screen (size or scale), or whose window does not fit this one, is not
        restored: the window is fitted to this screen afresh."""
        w = self.w
        screen = w.screen().availableGeometry() if w.screen() is not None else None
        width, height = 1440, 880
        if screen is not None and screen.width() > 0:
            width, height = min(width, int(screen.width() * 0.95)), min(height, int(screen.height() * 0.92))
        w.resize(width, height)
        geom, state = w.prefs.geometry(), w.prefs.window_state()
        if screen is not None and geom is not None and w.prefs.screen() != (screen.width(), screen.height()):
            geom = state = None     # saved on another screen (size or scale): fitted to this one afresh
        if geom is not None:
            w.restoreGeometry(geom)
            if screen is not None and not screen.contains(w.frameGeometry().adjusted(4, 4, -4, -4)):
                geom = state = None                      # does not fit this screen: fitted afresh
        self.restored = state is not None and w.restoreState(state)
        fit_docks(w)            # every dock scrolls vertically only and fits its width
        w.splitter.setChildrenCollapsible(False)     # (the canvas never vanishes)
        if geom is None:
            self.fit_to_screen()
        if not self.restored:
            self.place_bottom_docks()

    def first_show(self) -> None:
        """Called by the window's showEvent, once: the default layout if none was restored,
        else the drawing's split (not saved: the canvas the largest view on the left)."""
        if self._first_show:
            self._first_show = False
            if not self.restored:
                self.default_layout()
            else:
                sp = self.w.splitter
                QTimer.singleShot(0, lambda: sp.setSizes([int(sp.width() * 0.62), int(sp.width() * 0.38)]))

    def save(self) -> None:
        """Remember the geometry, the docks' state and the screen they were laid out on."""
        w = self.w
        avail = w.screen().availableGeometry() if w.screen() is not None else None
        w.prefs.save_window(w.saveGeometry(), w.saveState(), w.act_preprocess.isChecked(),
                            None if avail is None else (avail.width(), avail.height()))

    def default_layout(self) -> None:
        """Share the width between the drawing (canvas, prediction) and the docks."""
        w = self.w
        width = w.width()
        dock = int(min(max(width - 620, 0.45 * width), 0.62 * width))
        dock = self.dock_width(dock)     # at least what the Train tab needs, if it can
        w.resizeDocks([w.net_dock], [dock], Qt.Horizontal)
        w.splitter.setSizes([int((width - dock) * 0.62), int((width - dock) * 0.38)])

    # ---------------------------------------------------------------- sizes
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
        (:func:`app.frame.screen_fit.is_compact`) all but :meth:`drawing_width`."""
        w = self.w
        if is_compact(w.width()):
            return max(w.width() - self.drawing_width(), w.width() // 3)
        need = w.training_panel.wide_width() + w.train_scroll.frameWidth() * 2 + 8
        return max(proposed, min(need, w.width() - w.centralWidget().minimumSizeHint().width() - 8))

    def drawing_width(self) -> int:
        """The drawing area's width in the compact layout: a square canvas as tall as the
        area allows (at most 30% of the window's width, at least 200 pixels) and the
        prediction at its narrowest."""
        w = self.w
        height = w.centralWidget().height() or w.height() - 60
        side = max(200, min(height - 110, int(w.width() * 0.3)))
        pred = max(w.prediction.minimumWidth(), w.prediction.minimumSizeHint().width())
        return side + 12 + pred + w.splitter.handleWidth() + 16

    # ---------------------------------------------------------------- docks
    def place_bottom_docks(self) -> None:
        """The Timeline and Runs docks below the drawing, or, in a narrow window (where
        below leaves the canvas no room) or a low one (under :data:`BELOW_NEEDS` pixels,
        where below squashes the plots above into smears), tabbed with the docks on the right."""
        w = self.w
        for d in self.bottom_docks():
            d.setFloating(False)
            if is_compact(w.width()) or w.height() < BELOW_NEEDS:
                w.addDockWidget(Qt.RightDockWidgetArea, d)
                w.tabifyDockWidget(w.explain_dock, d)
            else:
                w.addDockWidget(Qt.BottomDockWidgetArea, d)

    def give_room(self, dock) -> None:
        """A dock shown below the drawing with too little height gets a third of the window."""
        w = self.w
        if (not dock.isVisible() or dock.isFloating()
                or w.dockWidgetArea(dock) != Qt.BottomDockWidgetArea
                or dock.height() >= BOTTOM_MIN_HEIGHT):
            return
        w.resizeDocks([dock], [max(BOTTOM_MIN_HEIGHT, w.height() // 3)], Qt.Vertical)

    def reset_layout(self) -> None:
        """Every dock back on the right, tabbed, "What the net sees" in front; the window fitted."""
        w = self.w
        w.showNormal()
        self.fit_to_screen()
        docks = self.right_docks()
        for d in docks:
            d.setFloating(False)
            w.addDockWidget(Qt.RightDockWidgetArea, d)
            d.show()
        for a, b in zip(docks, docks[1:]):
            w.tabifyDockWidget(a, b)
        self.place_bottom_docks()
        w.net_dock.raise_()
        w.prefs.forget_layout()
        QTimer.singleShot(0, self.default_layout)

    # ---------------------------------------------------------------- the status bar
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
