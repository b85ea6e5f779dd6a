"""A screenshot of the main window offscreen with a digit drawn.

Usage::

    QT_QPA_PLATFORM=offscreen python -m tools.screenshot [screenshot.png] [--model PATH] [--kernel N]
"""
from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from app.gc_guard import qt_application  # noqa: E402
from tests.helpers import draw_strokes, three  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Save a screenshot of the main window.")
    ap.add_argument("out", nargs="?", default="screenshot.png")
    ap.add_argument("--model", help="model file (default: the shipped model)")
    ap.add_argument("--kernel", type=int, default=3, help="kernel to highlight (1-based; 0: none)")
    args = ap.parse_args(argv)
    qapp = qt_application()
    from app.main_window import MainWindow
    from tests.helpers import NoPrompts
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
