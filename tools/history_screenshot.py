"""Make docs/screenshot-timeline.png and docs/screenshot-runs.png: a few short runs recorded
in a temporary runs folder, then the window scrubbing one run and listing them all.

Usage::

    QT_QPA_PLATFORM=offscreen python -m tools.history_screenshot [--data PATH] [--out docs]
"""
from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from app.gc_guard import qt_application  # noqa: E402


def record_runs(runs_dir: Path, data_path: str | None) -> None:
    """Three short runs (two article, one backprop), recorded in ``runs_dir``."""
    from engine.train.recipes import ARTICLE, BACKPROP, load_data, make_run, prepare
    from engine.train.tracker import RunTracker
    source = "local" if data_path else "auto"
    for s in (ARTICLE.replace(train=5000, epochs=8, tol=0.0, source=source, path=data_path),
              ARTICLE.replace(train=5000, epochs=8, tol=0.0, seed=1, alpha=0.02, source=source,
                              path=data_path),
              BACKPROP.replace(train=10000, epochs=6, source=source, path=data_path)):
        data = prepare(s, load_data(s))
        model, stepper = make_run(s, data, chunk=64)
        print(RunTracker(s, data, model, stepper).run(eval_every=1).save(runs_dir))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Save the timeline and runs screenshots.")
    ap.add_argument("--data", help="MNIST (a folder of IDX files or mnist.npz); default: auto")
    ap.add_argument("--out", default="docs")
    args = ap.parse_args(argv)
    qapp = qt_application()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["DIGITLAB_RUNS_DIR"] = str(Path(tmp) / "runs")
        record_runs(Path(tmp) / "runs", args.data)
        from app.main_window import MainWindow
        from tests.helpers import NoPrompts
        from tests.helpers import draw_strokes, three
        w = MainWindow(settings=QSettings(str(Path(tmp) / "s.ini"), QSettings.IniFormat),
                       prompts=NoPrompts())
        w.warmup.wait(60)                     # as app.main_window.run does before showing
        w.resize(1440, 1000)
        w.window_layout.place_bottom_docks()         # where a first start on a screen this wide puts them
        w.show()
        QTest.qWaitForWindowExposed(w)
        view = w.runs_view
        view.refresh()
        while view.reading():                 # read off the GUI thread
            QTest.qWait(5)
        arts = [i for i, r in enumerate(view.runs) if r.mode == "article"]
        view.select([arts[-1]])
        view.open_timeline()
        w.explain_dock.hide()
        w.net_dock.raise_()
        draw_strokes(w.canvas, [three()])
        w.classify_now()
        tp = w.timeline_panel
        tp.set_index(len(tp.timeline) - 6)
        qapp.processEvents()
        w.grab().save(str(Path(args.out) / "screenshot-timeline.png"))
        w.timeline_dock.hide()
        w.runs_dock.show()
        w.runs_dock.raise_()
        w.resizeDocks([w.runs_dock], [520], Qt.Vertical)
        view.select(range(len(view.runs)))
        qapp.processEvents()
        w.grab().save(str(Path(args.out) / "screenshot-runs.png"))
        w.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
