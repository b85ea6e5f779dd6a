"""From a mouse move to updated probabilities and maps on screen: how long?

Offscreen, the main window is shown with the shipped model (or --model); a stroke is
drawn with QTest mouse events, and after each move the throttled update is forced and
timed until the views are updated and repainted:

- ``event``: the QTest mouse move (canvas re-render of the current stroke);
- ``classify``: ``MainWindow.classify_now()`` (preprocessing, forward pass, setImage /
  setOpts on every view);
- ``paint``: ``QApplication.processEvents()`` (layout and repaint of what changed);
- ``total``: the three together, i.e. move to pixels (target: under 16 ms);
- ``grab``: additionally ``window.grab()`` of the whole window (a full repaint of
  everything, an upper bound).

Prints the median and 95th percentile of each, in milliseconds.

Usage::

    QT_QPA_PLATFORM=offscreen python benchmarks/gui_latency.py [--model PATH] [--moves 300]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

import app  # noqa: E402,F401  (the PySide6 reference-count guard)
from PySide6.QtCore import QPoint, QSettings, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from app.gc_guard import qt_application  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", help="model file (default: the shipped model, else an untrained one)")
    ap.add_argument("--moves", type=int, default=300)
    ap.add_argument("--grab-every", type=int, default=10, help="time a full window.grab() every N moves")
    args = ap.parse_args(argv)

    import tempfile
    from app.main_window import MainWindow
    import engine

    qapp = qt_application()
    model = None
    if args.model:
        model = engine.load_model(args.model)
    tmp = tempfile.TemporaryDirectory()
    settings = QSettings(str(Path(tmp.name) / "s.ini"), QSettings.IniFormat)
    from tests.helpers import NoPrompts
    w = MainWindow(model=model, settings=settings, prompts=NoPrompts())
    w.resize(1440, 880)
    w.show()
    QTest.qWaitForWindowExposed(w)
    qapp.processEvents()
    c = w.canvas
    r = c.target_rect()

    def at(t):
        """A point on a looping figure over the canvas, t in [0, 1)."""
        a = 2 * np.pi * t
        x = 0.5 + 0.3 * np.sin(a)
        y = 0.5 + 0.3 * np.sin(2 * a)
        return QPoint(int(r.x() + x * r.width()), int(r.y() + y * r.height()))

    times = {k: [] for k in ("event", "classify", "paint", "total", "grab")}
    per_stroke = 60
    QTest.mousePress(c, Qt.LeftButton, Qt.NoModifier, at(0))
    for i in range(1, args.moves + 1):
        if i % per_stroke == 0:                      # a new stroke now and then, the drawing grows
            QTest.mouseRelease(c, Qt.LeftButton, Qt.NoModifier, at((i - 1) / per_stroke))
            if i % (4 * per_stroke) == 0:
                c.clear()
            QTest.mousePress(c, Qt.LeftButton, Qt.NoModifier, at(i / per_stroke))
            qapp.processEvents()
            continue
        t0 = time.perf_counter()
        QTest.mouseMove(c, at(i / per_stroke))
        t1 = time.perf_counter()
        w.classify_now()
        t2 = time.perf_counter()
        qapp.processEvents()
        t3 = time.perf_counter()
        times["event"].append(t1 - t0)
        times["classify"].append(t2 - t1)
        times["paint"].append(t3 - t2)
        times["total"].append(t3 - t0)
        if args.grab_every and i % args.grab_every == 0:
            t4 = time.perf_counter()
            w.grab()
            times["grab"].append(time.perf_counter() - t4 + (t3 - t0))
    QTest.mouseRelease(c, Qt.LeftButton, Qt.NoModifier, at(0))

    m = w.current_model()
    print(f"model: {m.title}; window {w.width()}x{w.height()}, platform {qapp.platformName()}, "
          f"{len(times['total'])} moves")
    for k, v in times.items():
        if v:
            a = np.array(v) * 1000
            print(f"  {k:9s} median {np.median(a):6.2f} ms   p95 {np.percentile(a, 95):6.2f} ms")
    ok = np.percentile(np.array(times["total"]) * 1000, 95) < 16
    print(f"move to updated views (total) p95 {'under' if ok else 'OVER'} the 16 ms target")
    w.close()
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
