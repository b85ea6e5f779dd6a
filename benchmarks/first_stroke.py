"""The longest event-loop turn during the first stroke drawn after the window opens.

Each measurement runs in a fresh Python process (a real first launch): the window opens
with the shipped model, and 0.3 s after it shows a stroke (a 3, one pointer move every
8 ms) is posted to its canvas as mouse events through the event loop. A fine timer
records every gap between its ticks; the longest gap is the longest event-loop turn.
Run twice: with numba's on-disk cache of the compiled loops cold (an empty temporary
``NUMBA_CACHE_DIR``) and warm (the default cache, after a first run).

    QT_QPA_PLATFORM=offscreen python -m benchmarks.first_stroke
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

__all__ = ["main", "measure"]

MOVE_MS = 8
START_MS = 300


def _three(n: int = 60):
    """A 3 in 280x280 canvas pixels: two bumps, ``n`` points."""
    import numpy as np
    t = np.linspace(0, 1, n)
    pts = []
    for u in t:
        if u < 0.5:
            a = -np.pi / 2 + (u / 0.5) * 0.97 * np.pi    # top bump
            pts.append((140 + 60 * np.cos(a), 95 + 45 * np.sin(a)))
        else:
            a = -np.pi / 2 + ((u - 0.5) / 0.5) * np.pi  # bottom bump
            pts.append((140 + 60 * np.cos(a), 185 + 45 * np.sin(a)))
    return pts


def measure() -> dict:
    """In this process: open the window, draw the first stroke, return the figures."""
    t_start = time.perf_counter()
    from PySide6.QtCore import QEvent, QPointF, QSettings, Qt, QTimer
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication
    from app.gc_guard import qt_application
    app = qt_application()
    from app.main_window import MainWindow
    from tests.helpers import NoPrompts
    tmp = tempfile.mkdtemp()
    w = MainWindow(settings=QSettings(os.path.join(tmp, "s.ini"), QSettings.IniFormat))
    w.prompts = NoPrompts()
    w.warmup.wait(30.0)                     # as app.main_window.run does
    w.show()
    shown = time.perf_counter()
    gaps, last = [], [time.perf_counter()]
    ticker = QTimer()
    ticker.setInterval(1)

    def tick():
        now = time.perf_counter()
        if state["i"] > 0:                   # from the press on
            gaps.append(now - last[0])
        last[0] = now
    pts = _three()
    c = w.canvas
    r = c.target_rect()
    k = r.width() / 280
    wpts = [QPointF(r.x() + x * k, r.y() + y * k) for x, y in pts]
    state = {"i": 0}
    ticker.timeout.connect(tick)

    def send(kind, p, buttons):
        ev = QMouseEvent(kind, p, c.mapToGlobal(p), Qt.LeftButton, buttons, Qt.NoModifier)
        QApplication.postEvent(c, ev)

    def step():
        i = state["i"]
        if i == 0:
            send(QEvent.MouseButtonPress, wpts[0], Qt.LeftButton)
        elif i < len(wpts):
            send(QEvent.MouseMove, wpts[i], Qt.LeftButton)
        else:
            send(QEvent.MouseButtonRelease, wpts[-1], Qt.NoButton)
            mover.stop()
            QTimer.singleShot(200, app.quit)
        state["i"] += 1
    mover = QTimer()
    mover.setInterval(MOVE_MS)
    mover.timeout.connect(step)

    ticker.start()
    QTimer.singleShot(START_MS, mover.start)
    app.exec()
    ticker.stop()
    got = len(w.canvas.strokes()[0].points) if w.canvas.strokes() else 0
    w.prompts = NoPrompts()
    w.close()
    return {"longest_turn_ms": 1000 * max(gaps), "points_sent": len(wpts), "points_received": got,
            "startup_to_show_s": shown - t_start, "reading": w.prediction.digit.text()}


def _run(env) -> dict:
    out = subprocess.run([sys.executable, "-m", "benchmarks.first_stroke", "--child"], env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    if "--child" in sys.argv:
        print(json.dumps(measure()))
        return
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    with tempfile.TemporaryDirectory() as cold:
        r = _run({**env, "NUMBA_CACHE_DIR": cold})
        print(f"cold numba cache: longest event-loop turn {r['longest_turn_ms']:.0f} ms during the first "
              f"stroke; {r['points_received']}/{r['points_sent']} points reached the canvas; read "
              f"{r['reading']!r}; window shown {r['startup_to_show_s']:.1f} s after start")
    _run(env)                                           # warm the default cache
    r = _run(env)
    print(f"warm numba cache: longest event-loop turn {r['longest_turn_ms']:.0f} ms during the first "
          f"stroke; {r['points_received']}/{r['points_sent']} points reached the canvas; read "
          f"{r['reading']!r}; window shown {r['startup_to_show_s']:.1f} s after start")


if __name__ == "__main__":
    main()
