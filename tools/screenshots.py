"""Make the README's window screenshots: 1366x768 in the light theme and 1920x1080 in the
dark one, each in its own process on an offscreen screen of that size.

Usage::

    python -m tools.screenshots            # docs/screenshot-1366-light.png, docs/screenshot-1920-dark.png
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["main", "SHOTS"]

#: (width, height, theme, file)
SHOTS = [(1366, 768, "light", "docs/screenshot-1366-light.png"),
         (1920, 1080, "dark", "docs/screenshot-1920-dark.png")]


def _child(theme: str, out: str) -> None:
    from PySide6.QtCore import QSettings
    from PySide6.QtTest import QTest
    from app.gc_guard import qt_application
    qapp = qt_application()
    from app.main_window import MainWindow
    from tests.helpers import NoPrompts, draw_strokes, three
    with tempfile.TemporaryDirectory() as tmp:
        w = MainWindow(settings=QSettings(str(Path(tmp) / "s.ini"), QSettings.IniFormat), prompts=NoPrompts())
        w.theme_menu.set_theme(theme, remember=False)
        w.warmup.wait(60)
        avail = w.screen().availableGeometry()
        w.resize(avail.width(), avail.height())          # the whole screen, as maximised
        w.show()
        QTest.qWaitForWindowExposed(w)
        for _ in range(10):
            qapp.processEvents()
        draw_strokes(w.canvas, [three()])
        w.classify_now()
        wins = np.bincount(np.asarray(w.reading.forward.winner[0]).ravel())
        w.net_view.select_kernel(int(np.argmax(wins)))          # the kernel that wins most
        for _ in range(10):
            qapp.processEvents()
        w.grab().save(out)
        print(f"saved {out} ({w.width()}x{w.height()}, {theme}): reads {w.prediction.digit.text()}")
        w.close()


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] == "--child":
        _child(argv[1], argv[2])
        return 0
    root = Path(__file__).resolve().parent.parent
    for width, height, theme, out in SHOTS:
        with tempfile.TemporaryDirectory() as tmp:
            conf = Path(tmp) / "screen.json"
            conf.write_text(json.dumps({"screens": [{"name": "s", "x": 0, "y": 0, "width": width,
                                                     "height": height, "logicalDpi": 96,
                                                     "logicalBaseDpi": 96, "dpr": 1}]}))
            env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={conf}")
            subprocess.run([sys.executable, "-m", "tools.screenshots", "--child", theme, str(root / out)],
                           env=env, cwd=str(root), check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
