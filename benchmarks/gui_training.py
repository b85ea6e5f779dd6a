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
    stepper = make_stepper(model, data, settings)
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


def in_window(args, data, settings):
    from PySide6.QtCore import QElapsedTimer, QEventLoop, Qt, QTimer
    from PySide6.QtWidgets import QApplication
    app = QApplication.instance() or QApplication([])
    try:
        from app.main_window import MainWindow
        win = MainWindow()
        panel = win.training_panel
        host = "main window"
    except ImportError:
        from app.training_panel import TrainingPanel
        win = panel = TrainingPanel()
        host = "training panel alone (app.main_window not available)"
    win.resize(1400, 900)
    win.show()
    panel.apply_settings(settings, ask=False)
    panel.data_override = data
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
    panel.start()
    loop.exec()
    wall = time.perf_counter() - t0
    timer.stop()
    try:
        if hasattr(win, "_ask_save_changes"):
            win._ask_save_changes = lambda: "discard"     # no modal question when closing
        panel.mark_saved()
        win.close()
    finally:
        panel.shutdown()
    return result.get("fin"), iters, wall, np.asarray(gaps), host


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mode", choices=("article", "backprop"), default="article")
    p.add_argument("--iterations", type=int, default=3)
    p.add_argument("--train", type=int, default=10000, help="training images (at most)")
    p.add_argument("--data", default="/work/shared/data/mnist",
                   help="folder of MNIST IDX files (the sample is used when it is absent)")
    args = p.parse_args(argv)
    from app.worker import TrainingSettings
    data, desc = load_data(args)
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
    fin_g, it_g, wall_g, gaps, host = in_window(args, data, settings)
    stalls = np.maximum(gaps - 5.0, 0.0)
    say(f"in the window ({host}): {fin_g.images_per_second:,.0f} img/s "
          f"(per iteration: {', '.join(f'{v:,.0f}' for v in it_g)}), {wall_g:.1f} s wall")
    p50, p99 = np.percentile(stalls, [50, 99])
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
    }
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
