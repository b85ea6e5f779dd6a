"""Make docs/screenshot-explain.png: the explanation panel on a misread drawing, next to
the drawing with the attribution overlay the panel sends to the canvas.

Usage::

    QT_QPA_PLATFORM=offscreen python -m tools.explain_screenshot [docs/screenshot-explain.png]
        [--method NAME] [--why-not DIGIT] [--robustness]
"""
from __future__ import annotations

import argparse
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QPixmap  # noqa: E402
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget  # noqa: E402
from app.gc_guard import qt_application  # noqa: E402
from tests.helpers import curly_seven, render_strokes, wait_for  # noqa: E402

__all__ = ["main"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Save a screenshot of the explanation panel on a misread drawing.")
    ap.add_argument("out", nargs="?", default="docs/screenshot-explain.png")
    ap.add_argument("--method", default="integrated gradients")
    ap.add_argument("--why-not", type=int, default=None, help="explain this class instead of the reading")
    ap.add_argument("--robustness", action="store_true", help="show the Robustness tab, tested")
    args = ap.parse_args(argv)
    qapp = qt_application()
    import engine
    from app.explain.panel import ExplainPanel
    from app.explain.views import composite
    from app.reading.qimages import rgba_qimage
    from engine.net.preprocess import to_mnist
    model = engine.load_model()
    canvas = render_strokes(curly_seven())
    x28 = to_mnist(canvas)
    win = QWidget()
    win.setWindowTitle("Why did it read that?")
    panel = ExplainPanel()
    view = QLabel()
    view.setFixedSize(280, 280)
    caption = QLabel("The drawing, with the overlay\nthe panel sends to the canvas")
    caption.setAlignment(Qt.AlignCenter)
    left = QVBoxLayout()
    left.addWidget(view)
    left.addWidget(caption)
    left.addStretch(1)
    lay = QHBoxLayout(win)
    lay.addLayout(left)
    lay.addWidget(panel, 1)
    win.resize(1180, 640)
    win.show()
    panel.method_box.setCurrentText(args.method)
    if args.why_not is not None:
        panel.class_box.setCurrentIndex(panel.class_box.findData(args.why_not))
    panel.set_model(model)
    wait_for(panel.dataReady)
    panel.set_drawing(x28, canvas)
    overlay = wait_for(panel.overlayChanged)[0]
    rgb = composite(canvas, overlay)
    view.setPixmap(QPixmap.fromImage(rgba_qimage(np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)]))))
    if args.robustness:
        panel.tabs.setCurrentIndex(1)
        panel.robust_button.click()
        wait_for(panel.robustnessChanged)
    qapp.processEvents()
    win.grab().save(args.out)
    proba = model.predict_proba(x28[None])[0]
    print(f"saved {args.out}: a 7 read as {int(proba.argmax())} ({proba.max():.0%}); {panel.why_label.text()}")
    panel.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
