"""How long does the GUI thread freeze when the errors' gallery opens?

Offscreen, the main window is shown with the shipped model; the gallery is opened on a
confusion-matrix cell, the test set being the full MNIST test set if ``../shared/data/mnist``
(next to the repository; or ``--data``) holds it, else the bundled sample's 1,000 test
digits (said in the output). Each opening reads a fresh test set object, so the whole
test set is read every time.

- ``before``: the probabilities computed on the GUI thread, then the gallery made and
  shown (what a click did before the reading moved off the GUI thread): all of it blocks.
- ``after``: ``GalleryWiring.open`` (click to the gallery shown with its reading message;
  this blocks), then the longest gap between the ticks of a 5 ms QTimer while the model
  reads off the GUI thread (the longest the window does not answer; it includes filling
  the gallery when the result arrives), and the time from the click until the gallery
  is filled.

Prints the median and the worst of ``--repeats`` openings, in milliseconds.

Usage::

    QT_QPA_PLATFORM=offscreen python benchmarks/gallery_open.py [--data FOLDER] [--repeats 5]
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

import app  # noqa: E402,F401  (the PySide6 reference-count guard)
from PySide6.QtCore import QEventLoop, QSettings, QTimer  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from app.gc_guard import qt_application  # noqa: E402


def _test_set(model, folder: Path):
    """The MNIST test set in ``folder`` if there, else the bundled sample's; and what it is."""
    from app.history.error_gallery import TestSet, sample_test_set
    from engine.files import data
    if folder.is_dir():
        ds = data.load_local(folder)
        return TestSet(model.norm.apply(ds.test_images, model.dtype), ds.test_labels.astype(np.int64),
                       ds.test_images.astype(np.float32) / 255, model.record.mode != "article",
                       "MNIST test set"), f"the full MNIST test set ({folder.name}/)"
    return sample_test_set(model), f"the bundled sample's test digits ({folder} not found)"


def _ms(values) -> str:
    v = np.asarray(values) * 1000
    return f"median {np.median(v):7.1f} ms, worst {v.max():7.1f} ms"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "mnist"),
                    help="folder of the MNIST IDX files (default: ../shared/data/mnist)")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)

    import engine
    from app.history.error_gallery import ErrorGallery, predictions
    from app.main_window import MainWindow
    from tests.helpers import NoPrompts

    qapp = qt_application()
    model = engine.load_model(None)
    test, what = _test_set(model, Path(args.data))
    tmp = tempfile.TemporaryDirectory()
    w = MainWindow(model=model, settings=QSettings(str(Path(tmp.name) / "s.ini"), QSettings.IniFormat),
                   prompts=NoPrompts())
    w.resize(1440, 880)
    w.show()
    QTest.qWaitForWindowExposed(w)
    w.warmup.wait(60.0)
    qapp.processEvents()
    proba = predictions(model, test)                     # compiles, and finds a cell worth showing
    conf = np.zeros((10, 10), int)
    np.add.at(conf, (test.labels, proba.argmax(axis=1)), 1)
    np.fill_diagonal(conf, -1)
    cell = tuple(int(k) for k in np.unravel_index(conf.argmax(), conf.shape))
    print(f"Model: {model.name or 'shipped'}; test set: {what}, {len(test.labels):,} digits; "
          f"cell: true {cell[0]}, read as {cell[1]} ({conf[cell]} images)")

    before = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        g = ErrorGallery(model, test, w, proba=predictions(model, test))
        g.show_cell(*cell)
        g.show()
        qapp.processEvents()
        before.append(time.perf_counter() - t0)
        g.close()
        g.deleteLater()
        qapp.processEvents()

    gw = w.gallery_wiring
    shown, stalls, filled = [], [], []
    for _ in range(args.repeats):
        gw.run_test = dataclasses.replace(test)           # another test set object: read again
        loop, ticks = QEventLoop(), []
        timer = QTimer()
        timer.setInterval(5)
        timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
        done_at = []

        def arrived(*_):              # (connected after the gallery's own slot: once it is filled)
            done_at.append(time.perf_counter())
            loop.quit()

        gw.runner.returned.connect(arrived)
        t0 = time.perf_counter()
        g = gw.open(cell)
        qapp.processEvents()
        t1 = time.perf_counter()
        assert not g.is_ready() or done_at, "the gallery was filled on the GUI thread"
        ticks.append(t1)
        timer.start()
        if not done_at:
            loop.exec()
        timer.stop()
        ticks.append(time.perf_counter())
        gw.runner.returned.disconnect(arrived)
        assert g.is_ready() and g.cell() == cell, g.note.text()
        shown.append(t1 - t0)
        stalls.append(float(np.diff(ticks).max()))
        filled.append(done_at[0] - t0)
        g.close()
        qapp.processEvents()

    print(f"before: GUI thread blocked, click to gallery filled ({args.repeats} openings): {_ms(before)}")
    print(f"after:  GUI thread blocked, click to gallery shown with its message:  {_ms(shown)}")
    print(f"after:  longest GUI-thread stall while it reads (5 ms timer, fill included): {_ms(stalls)}")
    print(f"after:  click to gallery filled:                                       {_ms(filled)}")
    w.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
