"""How soon the window shows after ``digitlab`` starts, and the longest event-loop turn
while the first stroke is drawn.

Each measurement is a fresh Python process started the way ``digitlab`` starts (a real
first launch through :func:`app.main_window.run`, with empty settings and runs folders):
the clock starts just before the process is spawned, so the interpreter's own start-up
and every import count. *Window shown* is the end of the first event-loop turn after the
window's show event (its first paint). 0.3 s after that a stroke (a 3, one pointer move
every 8 ms) is posted to the canvas as mouse events through the event loop, and a 1-ms
timer records every gap between its ticks, from the show on until the first reading has
arrived: the longest gap is the longest event-loop turn. The GUI thread's CPU time until the
window shows is printed too: on a loaded machine the wall-clock figures grow with the load, that
one hardly does; so, on Linux, is the longest turn less the time the GUI thread spent ready to
run but waiting for a core (``/proc/self/task/<id>/schedstat``): what the program itself held up. Run with numba's on-disk cache
of the compiled loops cold (an empty temporary ``NUMBA_CACHE_DIR``) and warm (the
default cache, after a first run).

    QT_QPA_PLATFORM=offscreen python -m benchmarks.first_stroke [--repeat N]
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time

__all__ = ["main", "measure"]

MOVE_MS = 8
START_MS = 300


def _three(n: int = 60):
    """A 3 in 280x280 canvas pixels: two bumps, ``n`` points."""
    import math
    pts = []
    for i in range(n):
        u = i / (n - 1)
        if u < 0.5:
            a = -math.pi / 2 + (u / 0.5) * 0.97 * math.pi    # top bump
            pts.append((140 + 60 * math.cos(a), 95 + 45 * math.sin(a)))
        else:
            a = -math.pi / 2 + ((u - 0.5) / 0.5) * math.pi  # bottom bump
            pts.append((140 + 60 * math.cos(a), 185 + 45 * math.sin(a)))
    return pts


def measure(t0: float) -> None:
    """In this process: start the app as ``digitlab`` does, draw the first stroke once
    the window shows, print the figures as one JSON line (``t0``: the parent's
    ``time.time()`` just before this process was spawned)."""
    import app.main_window as mw                   # what app.launcher.main imports
    from PySide6.QtCore import QEvent, QPointF, Qt, QTimer
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    state = {"i": 0, "shown": None, "gaps": [], "stroke_gaps": [], "last": None, "read": None, "window": None,
             "own_gaps": [], "runq": None}
    schedstat = f"/proc/self/task/{threading.get_native_id()}/schedstat"

    def run_queue_s():
        """Seconds this (the GUI) thread has spent waiting for a core, or None."""
        try:
            with open(schedstat) as f:
                return int(f.read().split()[1]) / 1e9
        except (OSError, IndexError, ValueError):
            return None

    def tick():
        now = time.perf_counter()
        runq = run_queue_s()
        if state["last"] is not None:
            state["gaps"].append(now - state["last"])
            if state["i"] > 0:                                   # from the first press on
                state["stroke_gaps"].append(now - state["last"])
                if runq is not None and state["runq"] is not None:
                    state["own_gaps"].append(now - state["last"] - (runq - state["runq"]))
            if os.environ.get("FIRST_STROKE_DEBUG") and now - state["last"] > 0.04:
                w = state["window"]
                print(f"turn {1000 * (now - state['last']):.0f} ms ending at "
                      f"{now - state.get('shown_pc', now):+.3f} s from show; stroke point {state['i']}; "
                      f"warm-up done {w.warmup.is_done()}; read {w.reading.forward is not None}",
                      file=sys.stderr)
        state["last"] = now
        state["runq"] = runq

    ticker = QTimer()
    ticker.setInterval(1)
    ticker.setTimerType(Qt.PreciseTimer)
    ticker.timeout.connect(tick)
    mover = QTimer()
    mover.setInterval(MOVE_MS)

    def send(c, kind, p, buttons):
        ev = QMouseEvent(kind, p, c.mapToGlobal(p), Qt.LeftButton, buttons, Qt.NoModifier)
        QApplication.postEvent(c, ev)

    def step():
        w = state["window"]
        c = w.canvas
        r = c.target_rect()
        k = r.width() / 280
        pts = [QPointF(r.x() + x * k, r.y() + y * k) for x, y in _three()]
        i = state["i"]
        if i == 0:
            send(c, QEvent.MouseButtonPress, pts[0], Qt.LeftButton)
        elif i < len(pts):
            send(c, QEvent.MouseMove, pts[i], Qt.LeftButton)
        else:
            send(c, QEvent.MouseButtonRelease, pts[-1], Qt.NoButton)
            mover.stop()
            QTimer.singleShot(20, wait_reading)
        state["i"] += 1
    mover.timeout.connect(step)

    def wait_reading():
        w = state["window"]
        if w.reading.proba is None and time.perf_counter() - state["shown_pc"] < 60:
            QTimer.singleShot(5, wait_reading)
            return
        state["read"] = time.time() - t0
        ticker.stop()
        got = len(w.canvas.strokes()[0].points) if w.canvas.strokes() else 0
        print(json.dumps({"window_shown_s": state["shown"], "first_reading_s": state["read"],
                          "gui_cpu_to_show_s": state["shown_cpu"],
                          "longest_turn_ms": 1000 * max(state["gaps"]),
                          "longest_stroke_turn_ms": 1000 * max(state["stroke_gaps"]),
                          "longest_stroke_turn_less_run_queue_ms": (1000 * max(state["own_gaps"])
                                                                    if state["own_gaps"] else None),
                          "points_sent": len(_three()),
                          "points_received": got, "reading": w.prediction.digit.text()}), flush=True)
        w.close()

    def first_paint():
        state["shown"] = time.time() - t0
        state["shown_cpu"] = time.thread_time()      # the GUI thread's CPU time since the process began
        state["shown_pc"] = time.perf_counter()
        QTimer.singleShot(START_MS, mover.start)

    class Window(mw.MainWindow):
        def showEvent(self, event):
            super().showEvent(event)
            if state["window"] is None:
                state["window"] = self
                ticker.start()
                tick()
                QTimer.singleShot(0, first_paint)

    mw.MainWindow = Window
    mw.run(["digitlab"])


def _run(env) -> dict:
    t0 = time.time()
    out = subprocess.run([sys.executable, "-m", "benchmarks.first_stroke", "--child", repr(t0)],
                         env=env, capture_output=True, text=True, timeout=300)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        raise SystemExit(f"the measured process failed:\n{out.stderr[-2000:]}")
    if os.environ.get("FIRST_STROKE_DEBUG"):
        print(out.stderr, file=sys.stderr)
    return json.loads(lines[-1])


def _say(label: str, r: dict) -> None:
    own = r.get("longest_stroke_turn_less_run_queue_ms")
    own = f", {own:.0f} ms less the GUI thread's wait for a core" if own is not None else ""
    print(f"{label}: window shown {r['window_shown_s']:.2f} s after start ({r['gui_cpu_to_show_s']:.2f} s of "
          f"GUI-thread CPU), first reading "
          f"{r['first_reading_s']:.2f} s; longest event-loop turn {r['longest_stroke_turn_ms']:.0f} ms "
          f"from the first stroke's press to the first reading ({r['longest_turn_ms']:.0f} ms from the "
          f"show, first paint included){own}; {r['points_received']}/{r['points_sent']} points of the first "
          f"stroke reached the canvas; read {r['reading']!r}")


def main() -> None:
    if "--child" in sys.argv:
        measure(float(sys.argv[sys.argv.index("--child") + 1]))
        return
    repeat = int(sys.argv[sys.argv.index("--repeat") + 1]) if "--repeat" in sys.argv else 1
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    with tempfile.TemporaryDirectory() as home:
        env["XDG_CONFIG_HOME"] = os.path.join(home, "config")      # no remembered layout or model
        env["DIGITLAB_RUNS_DIR"] = os.path.join(home, "runs")
        for _ in range(repeat):
            with tempfile.TemporaryDirectory() as cold:
                _say("cold numba cache", _run({**env, "NUMBA_CACHE_DIR": cold}))
        _run(env)                                           # warm the default cache
        for _ in range(repeat):
            _say("warm numba cache", _run(env))


if __name__ == "__main__":
    main()
