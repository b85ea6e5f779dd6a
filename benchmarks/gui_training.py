"""Is the window responsive while it trains, and does training in it run at full speed?

Runs the same training twice in one process:

1. headless: the engine's generator (:func:`engine.train.recipes.run_events` over the run
   :func:`engine.train.recipes.make_run` builds), no Qt involved, images per second from its
   ``Finished`` event;
2. in the real main window (offscreen): the training panel's worker thread, while a
   ``QTimer`` firing every 5 ms on the main thread records the gaps between its ticks.
   A *stall* is a gap minus the 5 ms interval.

The two alternate ``--repeats`` times (5); the medians of their images per second are compared
(one run of a second or two moves by 10% with the machine's load), and the stalls are those of
every window run.

The data are MNIST's first ``--train`` images when ``--data`` names a folder of the IDX
files (default ``../shared/data/mnist`` from the working directory), else the bundled
5,000-digit sample. The last line of output is one JSON object:
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

from engine.train.events import IterationEnd  # noqa: E402


def say(*a):
    print(*a, flush=True)


def load_data(args, settings):
    from engine.files import data as edata
    from engine.train.recipes import prepare
    folder = Path(args.data) if args.data else None
    ds = edata.load("local", folder) if folder is not None and folder.exists() else edata.load("sample")
    data = prepare(settings, ds)
    return data, data.description


def headless(args, data, settings):
    from engine.train.recipes import make_run
    from engine.train.tracker import RunTracker
    model, stepper = make_run(settings, data, chunk=args.chunk)
    t0 = time.perf_counter()
    run = RunTracker(settings, data, model, stepper, snapshots=False)
    per_iter = [ev.images_per_second for ev in run.events(report_seconds=0.05)
                if isinstance(ev, IterationEnd)]
    return run.finished, per_iter, time.perf_counter() - t0


def make_window(width, height):
    """The real main window (temporary settings file) with its training panel shown."""
    import tempfile
    from PySide6.QtCore import QSettings, Qt
    from app.gc_guard import freeze_startup, qt_application
    from app.main_window import MainWindow
    from tests.helpers import NoPrompts
    qt_application()
    tmp = tempfile.mkdtemp(prefix="digitlab-bench-")
    win = MainWindow(settings=QSettings(os.path.join(tmp, "s.ini"), QSettings.IniFormat),
                     prompts=NoPrompts())
    win.warmup.wait(60.0)
    freeze_startup()                                  # as app.main_window.run does
    win.train_dock.show()
    win.train_dock.raise_()
    win.resize(width, height)
    win.show()
    win.resizeDocks([win.train_dock], [int(width * 0.62)], Qt.Horizontal)
    return win, win.training_panel


class Watcher:
    """Collects the panel's events on the GUI thread (a QObject slot, so queued there)."""

    def __init__(self, panel):
        from PySide6.QtCore import QObject, Slot
        from app.train.run_jobs import RunEnded
        from engine.train.events import Evaluated

        class _W(QObject):
            def __init__(self):
                super().__init__()
                self.iterations, self.tests, self.fin = [], [], None

            @Slot(object)
            def seen(self, ev):
                if isinstance(ev, IterationEnd):
                    self.iterations.append(ev.images_per_second)
                elif isinstance(ev, Evaluated):
                    self.tests.append(ev)
                elif isinstance(ev, RunEnded):
                    self.fin = ev.finished

        self.w = _W()
        panel.eventShown.connect(self.w.seen)


def screenshot(path, data, settings, after_iterations=3):
    """Save a picture of the main window training (mid-iteration after ``after_iterations``)."""
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtTest import QTest
    from tests.helpers import draw_strokes, three
    win, panel = make_window(1600, 940)
    panel.apply_settings(settings)
    panel.data_override = data
    panel.plots.VIEW_SECONDS = 0.0           # draw the running curve at every progress event
    QTest.qWaitForWindowExposed(win)
    draw_strokes(win.canvas, [three()])
    loop = QEventLoop()
    watch = Watcher(panel).w
    shot = []

    def check():
        run_x = panel.plots.running_x          # the running-error curve of this iteration
        if len(watch.iterations) >= after_iterations and len(run_x) >= 4 and 0.3 < run_x[-1] % 1 < 0.8:
            poll.stop()
            shot.append(win.grab())            # now, as the window shows this moment
            loop.quit()

    poll = QTimer()
    poll.setInterval(10)
    poll.timeout.connect(check)
    poll.start()
    panel.trainingStopped.connect(loop.quit)
    panel.start()
    loop.exec()
    (shot[0] if shot else win.grab()).save(str(path))
    say(f"saved {path} after {len(watch.iterations)} iterations")
    win.close()


def in_window(args, data, settings):
    from PySide6.QtCore import QElapsedTimer, QEventLoop, Qt, QTimer
    win, panel = make_window(1400, 900)
    panel.apply_settings(settings)
    panel.data_override = data
    panel.chunk = args.chunk
    loop = QEventLoop()                  # let the window settle before measuring
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
    watch = Watcher(panel).w
    panel.trainingStopped.connect(loop.quit)
    clock.start()
    timer.start()
    t0 = time.perf_counter()
    cpu0 = time.thread_time()
    panel.start()
    loop.exec()
    wall = time.perf_counter() - t0
    main_cpu = time.thread_time() - cpu0
    timer.stop()
    win.close()
    return watch.fin, watch.iterations, wall, np.asarray(gaps), main_cpu


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mode", choices=("article", "backprop"), default="article")
    p.add_argument("--iterations", type=int, default=3)
    p.add_argument("--train", type=int, default=10000, help="training images (at most)")
    p.add_argument("--data", default=os.path.join("..", "shared", "data", "mnist"),
                   help="folder of MNIST IDX files (the sample is used when it is absent)")
    p.add_argument("--repeats", type=int, default=5,
                   help="headless and window runs, alternated; the medians are compared (5)")
    p.add_argument("--chunk", type=int, default=64,
                   help="images per kernel call in the article mode (the window's default)")
    p.add_argument("--screenshot", metavar="PNG",
                   help="only save a picture of the window training (e.g. docs/screenshot-training.png)")
    args = p.parse_args(argv)
    from engine.train.recipes import RunSettings
    settings = RunSettings.for_mode(args.mode).replace(
        source="local" if Path(args.data).exists() else "sample", epochs=args.iterations, tol=0.0,
        train=args.train, path=os.path.relpath(args.data) if Path(args.data).exists() else None)
    data, desc = load_data(args, settings)
    if args.screenshot:
        screenshot(args.screenshot, data, settings.replace(epochs=50))
        return
    say(desc)
    say(f"{args.mode} mode, {len(data.Xtr):,} training images, {args.iterations} iterations")
    # warm-up (numba compilation, caches) so neither measurement pays for it
    from dataclasses import replace
    small = replace(data, Xtr=data.Xtr[:512], ytr=data.ytr[:512])
    headless(args, small, settings.replace(epochs=1))
    head, win, all_gaps, cpu_share = [], [], [], []
    for r in range(args.repeats):          # alternated, so that a change in the machine's load hits both
        fin_h, it_h, wall_h = headless(args, data, settings)
        head.append(fin_h.images_per_second)
        say(f"[{r + 1}] headless: {fin_h.images_per_second:,.0f} img/s "
            f"(per iteration: {', '.join(f'{v:,.0f}' for v in it_h)}), {wall_h:.1f} s wall")
        fin_g, it_g, wall_g, gaps, main_cpu = in_window(args, data, settings)
        win.append(fin_g.images_per_second)
        all_gaps.append(gaps)
        cpu_share.append(main_cpu / wall_g)
        say(f"[{r + 1}] in the window: {fin_g.images_per_second:,.0f} img/s "
            f"(per iteration: {', '.join(f'{v:,.0f}' for v in it_g)}), {wall_g:.1f} s wall; "
            f"main thread busy (CPU) {main_cpu:.2f} s ({100 * main_cpu / wall_g:.0f}%, timer included)")
    gaps = np.concatenate(all_gaps)
    stalls = np.maximum(gaps - 5.0, 0.0)
    p50, p99 = np.percentile(stalls, [50, 99])
    h_med, w_med = float(np.median(head)), float(np.median(win))
    say(f"median of {args.repeats}: headless {h_med:,.0f} img/s, in the window {w_med:,.0f} img/s: "
        f"{w_med / h_med:.3f} of headless speed (each repeat: "
        f"{', '.join(f'{w / h:.2f}' for w, h in zip(win, head))})")
    say(f"main-thread timer: {len(gaps)} ticks, stall p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
        f"max {stalls.max():.1f} ms; ticks over 30 ms late: {(stalls > 30).sum()}")
    out = {
        "p99_stall_ms": round(float(p99), 2),
        "max_stall_ms": round(float(stalls.max()), 2),
        "p50_stall_ms": round(float(p50), 2),
        "throughput_ratio": round(w_med / h_med, 3),
        "throughput_ratios": [round(w / h, 3) for w, h in zip(win, head)],
        "headless_images_per_second": round(h_med, 1),
        "window_images_per_second": round(w_med, 1),
        "mode": args.mode,
        "train_images": int(len(data.Xtr)),
        "iterations": args.iterations,
        "ticks": int(len(gaps)),
        "chunk": args.chunk,
        "repeats": args.repeats,
        "main_thread_cpu_share": round(float(np.median(cpu_share)), 3),
    }
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
