"""A screenshot of the main window offscreen with a digit drawn, and the drawing helpers the
other screenshot scripts and the GUI benchmarks share (:func:`three`, :func:`draw_strokes`).

Usage::

    QT_QPA_PLATFORM=offscreen python -m app.screenshot [screenshot.png] [--model PATH] [--kernel N]
"""
from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtCore import QPoint, QSettings, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from app.gc_guard import qt_application  # noqa: E402


def three(n: int = 40) -> np.ndarray:
    """A handwritten-looking 3 as canvas points (280x280), (n, 2)."""
    a = np.radians(np.linspace(200, 450, n // 2))
    b = np.radians(np.linspace(-90, 150, n // 2))
    top = np.stack([0.33 + 0.3 * np.cos(a), 0.25 + 0.25 * np.sin(a)], 1)
    bottom = np.stack([0.33 + 0.33 * np.cos(b), 0.74 + 0.26 * np.sin(b)], 1)
    pts = np.concatenate([top, bottom])
    pts[:, 0] += 0.12 * (0.5 - pts[:, 1])            # a slight right lean
    return pts * 185 + np.array([88, 48])


def draw_strokes(canvas, strokes) -> None:
    """Draw ``strokes`` (each a sequence of (x, y) in 280x280 canvas coordinates) on a
    :class:`app.canvas.DrawingCanvas` with mouse events, as a person would."""
    r = canvas.target_rect()
    k = r.width() / 280
    for s in strokes:
        pts = [QPoint(int(r.x() + x * k), int(r.y() + y * k)) for x, y in s]
        QTest.mousePress(canvas, Qt.LeftButton, Qt.NoModifier, pts[0])
        for p in pts[1:]:
            QTest.mouseMove(canvas, p)
        QTest.mouseRelease(canvas, Qt.LeftButton, Qt.NoModifier, pts[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Save a screenshot of the main window.")
    ap.add_argument("out", nargs="?", default="screenshot.png")
    ap.add_argument("--model", help="model file (default: the shipped model)")
    ap.add_argument("--kernel", type=int, default=3, help="kernel to highlight (1-based; 0: none)")
    args = ap.parse_args(argv)
    qapp = qt_application()
    from .main_window import MainWindow
    from .prompts import NoPrompts
    import engine
    model = engine.load_model(args.model) if args.model else None
    with tempfile.TemporaryDirectory() as tmp:
        settings = QSettings(str(Path(tmp) / "s.ini"), QSettings.IniFormat)
        w = MainWindow(model=model, settings=settings, prompts=NoPrompts())
        w.warmup.wait(60)                       # as app.main_window.run does before showing
        w.resize(1440, 880)
        w.show()
        QTest.qWaitForWindowExposed(w)
        draw_strokes(w.canvas, [three()])
        w.classify_now()
        w.net_view.select_kernel(args.kernel - 1)
        qapp.processEvents()
        w.grab().save(args.out)
        print(f"saved {args.out}: {w.current_model().title}, reads {int(np.argmax(w.reading.proba))} "
              f"({w.reading.proba.max():.0%})")
        w.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
