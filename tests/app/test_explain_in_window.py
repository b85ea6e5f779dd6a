"""The explanations panel in the main window: a dock, the overlay drawn on the canvas."""
from __future__ import annotations

import numpy as np

from tests.helpers import draw_on, line


def test_the_why_dock_draws_the_attribution_over_the_drawing(qtbot, settings, prompts):
    import engine
    from app.main_window import MainWindow
    w = MainWindow(model=engine.load_model(), settings=settings, prompts=prompts)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    assert w.canvas.overlay() is None
    w.explain_dock.raise_()                       # the user opens the "Why?" tab
    qtbot.waitUntil(w.explain_dock.isVisible)
    draw_on(w, line(140, 40, 140, 240))           # a 1
    qtbot.waitUntil(lambda: w.canvas.overlay() is not None, timeout=30000)
    ov = w.canvas.overlay()
    assert (ov.width(), ov.height()) == (w.canvas.canvas_size(), w.canvas.canvas_size())
    alpha = np.array([ov.pixelColor(x, y).alpha() for y in range(0, 280, 4) for x in range(0, 280, 4)])
    assert alpha.max() > 0                        # something is drawn where the ink pushed
    qtbot.waitUntil(w.prediction.attribution_item.isVisible)     # and over the 28x28 input
    assert w.prediction.attribution_item.image.shape == (28, 28, 4)
    w.net_dock.raise_()                           # another tab: no overlay over the drawing
    qtbot.waitUntil(lambda: w.canvas.overlay() is None)
    assert not w.prediction.attribution_item.isVisible()
    prompts.answers["ask_save"] = "discard"
    w.close()
