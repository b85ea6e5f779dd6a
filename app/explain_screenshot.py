"""Make docs/screenshot-explain.png: the explanation panel on a misread drawing, next to
the drawing with the attribution overlay the panel sends to the canvas.

Usage::

    QT_QPA_PLATFORM=offscreen python -m app.explain_screenshot [docs/screenshot-explain.png]
        [--method NAME] [--why-not DIGIT] [--robustness]
"""
from __future__ import annotations

import argparse
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtCore import QEventLoop, QPointF, Qt, QTimer  # noqa: E402
from PySide6.QtGui import QPixmap  # noqa: E402
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget  # noqa: E402
from app.gc_guard import qt_application  # noqa: E402

__all__ = ["curly_seven", "draw", "main"]


def curly_seven() -> list[np.ndarray]:
    """Strokes (canvas points, 280x280) of a 7 with a bar and a curved stem, which the shipped
    model reads as a 3."""
    a = np.radians(np.linspace(-60, 80, 30))
    stem = np.stack([120 + 80 * np.cos(a), 150 + 95 * np.sin(a)], 1)
    return [np.array([[80.0, 60.0], [200.0, 55.0]]), np.concatenate([[[200.0, 57.0]], stem])]


def draw(strokes) -> np.ndarray:
    """Render strokes with the app's canvas: the canvas image ``(280, 280)`` float32."""
    from .canvas import DrawingCanvas, Stroke
    c = DrawingCanvas()
    c.set_strokes([Stroke([QPointF(float(x), float(y)) for x, y in s]) for s in strokes])
    return c.image()


def wait_for(signal, ms: int = 60_000):
    """Run the event loop until ``signal`` fires (or ``ms`` pass); returns its arguments."""
    loop, got = QEventLoop(), []

    def fire(*args):
        got.append(args)
        loop.quit()

    signal.connect(fire)
    QTimer.singleShot(ms, loop.quit)
    loop.exec()
    signal.disconnect(fire)
    return got[0] if got else None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Save a screenshot of the explanation panel on a misread drawing.")
    ap.add_argument("out", nargs="?", default="docs/screenshot-explain.png")
    ap.add_argument("--method", default="integrated gradients")
    ap.add_argument("--why-not", type=int, default=None, help="explain this class instead of the reading")
    ap.add_argument("--robustness", action="store_true", help="show the Robustness tab, tested")
    args = ap.parse_args(argv)
    qapp = qt_application()
    import engine
    from engine.preprocess import to_mnist
    from .explain_panel import ExplainPanel
    from .explain_views import composite
    from .qimages import rgba_qimage
    model = engine.load_model()
    canvas = draw(curly_seven())
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
