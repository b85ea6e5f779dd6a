"""Timeline figures: the snapshots a 50-iteration article run keeps, their memory, and the
scrubbing latency (slider moved -> every view updated and painted) in an offscreen window.

Run: ``QT_QPA_PLATFORM=offscreen python benchmarks/timeline_figures.py``
"""
from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np


def article_timeline():
    """A timeline shaped as a 50-iteration article run's (20,000 images an iteration)."""
    from engine.history.snapshots import Timeline, TimePoint, checkpoints
    from engine.net.model import Model
    from engine.train.recipes import ARTICLE
    rng = np.random.RandomState(0)
    base = Model.article_init(ARTICLE.config, rng)
    tl = Timeline()
    size = ARTICLE.train
    moments = [0] + checkpoints(size) + [size * (i + 1) for i in range(ARTICLE.epochs)]
    for images in moments:
        m = base.copy()
        m.params["K"] += 0.01 * rng.standard_normal(m.params["K"].shape)
        tl.add(TimePoint(images, images / size, 0.1, m))
    return tl, len(moments)


def main():
    from engine.history.snapshots import CAP
    tl, taken = article_timeline()
    per = sum(v.nbytes for v in tl[0].model.params.values())
    print(f"cap: {CAP} snapshots")
    print(f"50-iteration article run: {taken} snapshots taken, {len(tl)} kept, "
          f"{per / 1024:.0f} KiB each, {tl.nbytes / 2**20:.1f} MiB in all")
    from app.gc_guard import qt_application
    from PySide6.QtCore import QSettings
    import tempfile
    app = qt_application()
    from app.main_window import MainWindow
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["DIGITLAB_RUNS_DIR"] = tmp
        w = MainWindow(model=tl[-1].model, settings=QSettings(f"{tmp}/s.ini", QSettings.IniFormat))
        w.resize(1400, 900)
        w.show()
        w.timeline_dock.show()
        app.processEvents()
        w.canvas.set_image(np.pad(np.ones((20, 4)), ((4, 4), (12, 12))))
        w.timeline_wiring.open_timeline(tl, "benchmark")
        app.processEvents()
        for dock in (w.net_dock, w.train_dock):
            dock.raise_()
            app.processEvents()
            times = []
            for i in list(range(len(tl))) * 2:
                t0 = time.perf_counter()
                w.timeline_panel.set_index(i)
                app.processEvents()                   # the repaint
                times.append(time.perf_counter() - t0)
            name = "What the net sees" if dock is w.net_dock else "Train"
            print(f"scrubbing latency with '{name}' showing: median {1000 * statistics.median(times):.1f} ms, "
                  f"95th percentile {1000 * np.percentile(times, 95):.1f} ms over {len(times)} moves")
        t0 = time.perf_counter()
        w.timeline_panel.set_drawing(np.zeros((28, 28)) + 0.5)
        print(f"probabilities across training redrawn in {1000 * (time.perf_counter() - t0):.1f} ms")
        w.close()


if __name__ == "__main__":
    main()
