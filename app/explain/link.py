"""The Why? tab follows the drawing: each reading goes to it while it is on screen, and its
overlay is drawn over the canvas and the network's input while it shows."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, QTimer

__all__ = ["ExplainLink"]


class ExplainLink(QObject):
    """Ties an :class:`app.explain.panel.ExplainPanel` in ``dock`` to the drawing's readings.

    The panel is sent the current model (not a live training snapshot) and the drawing; it
    computes off the GUI thread. A reading that changes neither (a training snapshot, a
    step of the timeline) sends nothing.
    """

    def __init__(self, panel, dock, reader, owner, canvas, prediction, parent=None):
        super().__init__(parent)
        self.panel, self.dock, self.reader = panel, dock, reader
        self.owner, self.canvas, self.prediction = owner, canvas, prediction
        self._model = None
        self._drawing = None     # (input, canvas image, preprocess) last sent
        reader.readingChanged.connect(lambda _r: self.shown() and self.explain(force=False))
        dock.visibilityChanged.connect(self._visible)
        panel.overlayChanged.connect(self._show_overlay)
        panel.attributionChanged.connect(
            lambda m: prediction.set_attribution(m if dock.isVisible() else None))

    def shown(self) -> bool:
        """Whether the Why? dock is on screen (not a tab behind another dock)."""
        return self.dock.isVisible() and not self.dock.visibleRegion().isEmpty()

    def explain(self, force: bool = True) -> None:
        """Send the model and the drawing to the panel; ``force`` False: only if one of them
        changed since last sent."""
        model = self.owner.model()
        x = self.reader.last.input
        img, pre = self.canvas.image(), self.reader.preprocess()
        sent = self._drawing
        if (not force and model is self._model and sent is not None and sent[2] == pre
                and np.array_equal(sent[0], x) and np.array_equal(sent[1], img)):
            return
        if model is not None and model is not self._model:
            self._model = model
            self.panel.set_model(model)
        self._drawing = (x, img, pre)
        self.panel.set_drawing(x, img, pre)

    def _visible(self, visible: bool) -> None:
        if visible:       # (checked once the docks are laid out: a tab behind another is not shown)
            QTimer.singleShot(0, lambda: self.shown() and self.explain())
        else:
            self.canvas.set_overlay(None)
            self.prediction.set_attribution(None)

    def _show_overlay(self, rgba) -> None:
        self.canvas.set_overlay(rgba if self.dock.isVisible() else None)
