"""Make docs/screenshot-teach.png: the Teach dock after a simulated writer's corrections and a fine-tuning.

Usage::

    QT_QPA_PLATFORM=offscreen python -m tools.teach_screenshot [docs/screenshot-teach.png] [--model PATH]
"""
from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtCore import QEventLoop, QSettings, QTimer  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from app.gc_guard import qt_application  # noqa: E402


def _draw(w, strokes_) -> None:
    from tests.helpers import draw_strokes
    draw_strokes(w.canvas, strokes_)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Save a screenshot of the teach flow.")
    ap.add_argument("out", nargs="?", default="docs/screenshot-teach.png")
    ap.add_argument("--model", help="model file (default: the shipped model)")
    ap.add_argument("--seed", type=int, default=4)
    args = ap.parse_args(argv)
    qapp = qt_application()
    import engine
    from app.main_window import MainWindow
    from engine.handwriting import strokes
    from tests.helpers import NoPrompts
    rng = np.random.default_rng(args.seed)
    writer = strokes.random_writer(rng)
    with tempfile.TemporaryDirectory() as tmp:
        settings = QSettings(str(Path(tmp) / "s.ini"), QSettings.IniFormat)
        settings.setValue("collection/path", str(Path(tmp) / "collection.npz"))
        w = MainWindow(model=engine.load_model(args.model), settings=settings, prompts=NoPrompts())
        w.resize(1440, 880)
        w.show()
        QTest.qWaitForWindowExposed(w)
        panel = w.teach_panel
        w.teach_dock.raise_()
        panel.toggle_teach()
        for d in range(10):
            for _ in range(2):
                _draw(w, strokes.draw(writer.styles[d], rng))
                panel.correct(d)
        loop = QEventLoop()
        panel.tuned.connect(lambda _t: loop.quit())
        QTimer.singleShot(120_000, loop.quit)
        panel.start_finetune()
        loop.exec()
        while panel.worker.is_running():
            qapp.processEvents()
        panel.toggle_teach()                  # Teach mode again: it asks for a 0
        _draw(w, strokes.draw(writer.styles[1], rng))
        w.classify_now()
        qapp.processEvents()
        w.canvas.set_overlay(None)            # the Why? dock's overlay, if it showed
        w.grab().save(args.out)
        print(f"saved {args.out}: {panel.result_label.text()!r}; styles {writer.styles}")
        panel.toggle_teach()
        w.owner.set_model(w.owner.model())    # saved state: close without asking
        w.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
