"""Is the window responsive while it trains, and does training in it run at full speed?

Runs the same training twice in one process:

1. headless: the engine's generator (``engine.training.train`` over the mode's stepper),
   no Qt involved, images per second from its ``Finished`` event;
2. in the real main window (offscreen): the training panel's worker thread, while a
   ``QTimer`` firing every 5 ms on the main thread records the gaps between its ticks.
   A *stall* is a gap minus the 5 ms interval.

The data are MNIST's first ``--train`` images when the IDX files or Keras's cache are
there, else the bundled 5,000-digit sample. The last line of output is one JSON object:
``{"p99_stall_ms", "max_stall_ms", "throughput_ratio", ...}``.

Usage::

    QT_QPA_PLATFORM=offscreen python benchmarks/gui_training.py [--mode article] [--iterations 3]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("KERAS_BACKEND", "jax")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from engine.events import Finished, IterationEnd  # noqa: E402
from engine.training import train  # noqa: E402


def say(*a):
    print(*a, flush=True)


def load_data(args):
    from engine import data as edata
    from app.worker import PreparedData
    kind = "article" if args.mode == "article" else "standard"
    folder = Path(args.data) if args.data else None
    if folder is not None and folder.exists():
        ds = edata.load("local", folder)
    else:
        ds = edata.load("sample")
    Xtr, ytr, Xte, yte, norm = edata.prepare(ds, kind, args.train)
    return PreparedData(Xtr, ytr, Xte, yte, norm, ds.description), ds.description


def headless(args, data, settings):
    from app.worker import make_model, make_stepper
    model = make_model(settings, data.norm)
    stepper = make_stepper(model, data, settings, chunk=args.chunk)
    t0 = time.perf_counter()
    fin = None
    per_iter = []
    for ev in train(model, stepper, max_iter=settings.iterations, tol=None,
                    test=(data.Xte, data.yte), report_seconds=0.05,
                    pooled_tanh_at_test=settings.mode != "article"):
        if isinstance(ev, IterationEnd):
            per_iter.append(ev.images_per_second)
        if isinstance(ev, Finished):
            fin = ev
    return fin, per_iter, time.perf_counter() - t0


def make_window(width, height):
    """The real main window (temporary settings file) with its training panel shown."""
    import tempfile
    from PySide6.QtCore import QSettings, Qt
    from PySide6.QtWidgets import QApplication
    QApplication.instance() or QApplication([])
    try:
        from app.main_window import MainWindow
    except ImportError:
        from app.training_panel import TrainingPanel
        win = panel = TrainingPanel()
        host = "training panel alone (app.main_window not available)"
    else:
        tmp = tempfile.mkdtemp(prefix="digitlab-bench-")
        win = MainWindow(settings=QSettings(os.path.join(tmp, "s.ini"), QSettings.IniFormat))
        panel = win.training_panel
        host = "main window"
        win.train_dock.show()
        win.train_dock.raise_()
    win.resize(width, height)
    win.show()
    if host == "main window":
        win.resizeDocks([win.train_dock], [int(width * 0.62)], Qt.Horizontal)
    return win, panel, host


def screenshot(path, data, settings, after_iterations=3):
    """Save a picture of the main window training (mid-iteration after ``after_iterations``)."""
    from PySide6.QtCore import QEventLoop, QPoint, Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication
    app = QApplication.instance() or QApplication([])
    win, panel, host = make_window(1600, 940)
    panel.apply_settings(settings, ask=False)
    panel.data_override = data
    panel.CURVE_SECONDS = 0.0          # draw the running curve at every progress event
    QTest.qWaitForWindowExposed(win)
    if host == "main window":
        try:
            from app.screenshot import three
            c = win.canvas
            r = c.target_rect()
            pts = [QPoint(int(r.x() + x * r.width() / 280), int(r.y() + y * r.height() / 280))
                   for x, y in three()]
            QTest.mousePress(c, Qt.LeftButton, Qt.NoModifier, pts[0])
            for p in pts[1:]:
                QTest.mouseMove(c, p)
            QTest.mouseRelease(c, Qt.LeftButton, Qt.NoModifier, pts[-1])
        except Exception as e:  # the picture is still useful without a drawing
            say(f"(no drawing in the screenshot: {e})")
    loop = QEventLoop()
    ended = []
    progress = []
    # (worker signals connected to plain functions may run in the worker thread: only
    # append there, and decide on the main thread)
    panel._thread.worker.evaluated.connect(ended.append)
    panel._thread.worker.progress.connect(progress.append)

    shot = []

    def check():
        run_x = panel._run_x          # the running-error curve of the current iteration
        if len(ended) >= after_iterations and len(run_x) >= 4 and 0.3 < run_x[-1] % 1 < 0.8:
            poll.stop()
            shot.append(win.grab())   # now, as the window shows this moment
            loop.quit()

    poll = QTimer()
    poll.setInterval(10)
    poll.timeout.connect(check)
    poll.start()
    panel.trainingStopped.connect(loop.quit)
    panel.start()
    loop.exec()
    (shot[0] if shot else win.grab()).save(str(path))
    say(f"saved {path} ({host}) after {len(ended)} iterations")
    if hasattr(win, "_ask_save_changes"):
        win._ask_save_changes = lambda: "discard"
    panel.mark_saved()
    win.close()
    panel.shutdown()


def in_window(args, data, settings):
    from PySide6.QtCore import QElapsedTimer, QEventLoop, Qt, QTimer
    from PySide6.QtWidgets import QApplication
    app = QApplication.instance() or QApplication([])
    win, panel, host = make_window(1400, 900)
    panel.apply_settings(settings, ask=False)
    panel.data_override = data
    panel._thread.worker.chunk = args.chunk
    # let the window settle before measuring
    loop = QEventLoop()
    QTimer.singleShot(300, loop.quit)
    loop.exec()

    gaps = []
    clock = QElapsedTimer()
    timer = QTimer()
    timer.setTimerType(Qt.PreciseTimer)
    timer.setInterval(5)
    last = [None]

    def tick():
        now = clock.nsecsElapsed() / 1e6
        if last[0] is not None:
            gaps.append(now - last[0])
        last[0] = now

    timer.timeout.connect(tick)
    result = {}
    iters = []
    panel._thread.worker.iterationEnded.connect(lambda ev: iters.append(ev.images_per_second))
    panel._thread.worker.finished.connect(lambda fin, m: result.setdefault("fin", fin))
    panel.trainingStopped.connect(loop.quit)
    clock.start()
    timer.start()
    t0 = time.perf_counter()
    cpu0 = time.thread_time()
    panel.start()
    loop.exec()
    wall = time.perf_counter() - t0
    result["main_cpu"] = time.thread_time() - cpu0
    timer.stop()
    try:
        if hasattr(win, "_ask_save_changes"):
            win._ask_save_changes = lambda: "discard"     # no modal question when closing
        panel.mark_saved()
        win.close()
    finally:
        panel.shutdown()
    return result.get("fin"), iters, wall, np.asarray(gaps), host, result["main_cpu"]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mode", choices=("article", "backprop"), default="article")
    p.add_argument("--iterations", type=int, default=3)
    p.add_argument("--train", type=int, default=10000, help="training images (at most)")
    p.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"),
                   help="folder of MNIST IDX files (the sample is used when it is absent)")
    p.add_argument("--chunk", type=int, default=None,
                   help="images per kernel call in the article mode (default: the worker's)")
    p.add_argument("--screenshot", metavar="PNG",
                   help="only save a picture of the window training (e.g. docs/screenshot-training.png)")
    args = p.parse_args(argv)
    if args.chunk is None:
        from app.worker import TrainingWorker
        args.chunk = TrainingWorker.DEFAULT_CHUNK
    from app.worker import TrainingSettings
    data, desc = load_data(args)
    if args.screenshot:
        from app.training_panel import ARTICLE_PRESET
        from dataclasses import replace as _replace
        screenshot(args.screenshot, data, _replace(ARTICLE_PRESET, source="local", path=args.data,
                                                   train_count=len(data.Xtr), tol=0.0))
        return
    settings = TrainingSettings(mode=args.mode, source="sample", train_count=len(data.Xtr),
                                iterations=args.iterations, tol=0.0,
                                alpha=0.01 if args.mode == "article" else 0.05,
                                batch=64, momentum=0.9, loss="xent")
    say(desc)
    say(f"{args.mode} mode, {len(data.Xtr):,} training images, {args.iterations} iterations")
    # warm-up (numba compilation, caches) so neither measurement pays for it
    from dataclasses import replace
    small = replace(data, Xtr=data.Xtr[:512], ytr=data.ytr[:512])
    headless(args, small, replace(settings, iterations=1))

    fin_h, it_h, wall_h = headless(args, data, settings)
    say(f"headless: {fin_h.images_per_second:,.0f} img/s "
          f"(per iteration: {', '.join(f'{v:,.0f}' for v in it_h)}), {wall_h:.1f} s wall")
    fin_g, it_g, wall_g, gaps, host, main_cpu = in_window(args, data, settings)
    stalls = np.maximum(gaps - 5.0, 0.0)
    say(f"in the window ({host}): {fin_g.images_per_second:,.0f} img/s "
          f"(per iteration: {', '.join(f'{v:,.0f}' for v in it_g)}), {wall_g:.1f} s wall")
    p50, p99 = np.percentile(stalls, [50, 99])
    say(f"main thread busy (CPU) {main_cpu:.2f} s of {wall_g:.1f} s ({100 * main_cpu / wall_g:.0f}%), "
        f"timer included")
    say(f"main-thread timer: {len(gaps)} ticks, stall p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
          f"max {stalls.max():.1f} ms; ticks over 30 ms late: {(stalls > 30).sum()}")
    out = {
        "p99_stall_ms": round(float(p99), 2),
        "max_stall_ms": round(float(stalls.max()), 2),
        "p50_stall_ms": round(float(p50), 2),
        "throughput_ratio": round(fin_g.images_per_second / fin_h.images_per_second, 3),
        "headless_images_per_second": round(fin_h.images_per_second, 1),
        "window_images_per_second": round(fin_g.images_per_second, 1),
        "mode": args.mode,
        "train_images": int(len(data.Xtr)),
        "iterations": args.iterations,
        "host": host,
        "ticks": int(len(gaps)),
        "chunk": args.chunk,
        "main_thread_cpu_share": round(main_cpu / wall_g, 3),
    }
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
