"""The shipped model within reach and named: File ▸ Revert to the Shipped Model, the shipped
model at the top of Open Recent, the "read by" line saying which model reads the drawing, and
the model's name in the window's title."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction

from ..model_owner import check_model
from .actions import make_action

__all__ = ["ModelMenu"]


class ModelMenu(QObject):
    """Revert to the shipped model and say which model reads the drawing.

    Parameters
    ----------
    window : app.main_window.MainWindow
        Its owner, prompts, preferences, status bar, Open Recent menu, prediction view and
        timeline panel.

    Attributes
    ----------
    act_revert : QAction
    """

    def __init__(self, window):
        super().__init__(window)
        self.w = w = window
        self.act_revert = make_action(window, "Revert to the S&hipped Model", self.revert_to_shipped, None,
                                      "Go back to the model Digitlab ships with (asks first if the "
                                      "current one is unsaved)")
        w.owner.modelChanged.connect(lambda _m: self.show_name())
        w.owner.stateChanged.connect(self.show_name)
        w.recent_menu.aboutToShow.connect(self._add_shipped_to_recent)

    def revert_to_shipped(self) -> bool:
        """Read with the shipped model again (asks first if the current model is unsaved)."""
        w = self.w
        if w.owner.is_training():
            w.prompts.error("Cannot revert", "A run is training: stop it before reverting.")
            return False
        try:
            import engine
            model = engine.load_model()
            check_model(model)
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

    def title(self) -> str:
        """The current model as the window's title names it: its file (once saved, the
        shipped model aside) or its name, each "+ ..." part once, and its test accuracy."""
        o = self.w.owner
        m = o.model()
        name = Path(o.path()).name if o.path() and not o.is_shipped() else (m.name or "unnamed model")
        parts = name.split(" + ")                   # ("+ my handwriting" once, however often tuned)
        name = " + ".join(p for i, p in enumerate(parts) if i == 0 or p != parts[i - 1])
        acc = m.record.argmax_accuracy
        return f"{name}{f' ({acc:.2f}% test accuracy)' if acc is not None else ''}"

    def _timeline_point(self) -> str:
        tp = self.w.timeline_panel
        tl = tp.timeline
        if tl is None or not len(tl):
            return "a snapshot of a run"
        where = f"{tp.source}, " if tp.source else ""
        return f"the timeline ({where}{tl[tp.index()].label.replace('iteration', tp.unit)})"

    def show_name(self) -> None:
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
