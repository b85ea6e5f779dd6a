"""Per-style accuracy, drawn through the canvas; and the "not a digit" figures.

Every style of :data:`engine.handwriting.strokes.STYLES` is drawn ``--per-style`` times at random
(slant, rotation, size, aspect, wobble, jitter, position, brush, mouse-event spacing; seeds
apart from those the shipped model was trained with), replayed as QTest mouse events on a
280x280 :class:`app.reading.canvas.DrawingCanvas`, made 28x28 by :func:`engine.net.preprocess.to_mnist`
and read. Prints a table of accuracy per style for each model given (first column: the
first model), the overall figures, the median top probability of the misreads, and, with
``--nondigits N``, how many of N non-digit drawings (:func:`engine.handwriting.negatives.make_nondigits`)
each model catches and how many MNIST test digits it lets through.

Usage::

    QT_QPA_PLATFORM=offscreen python benchmarks/style_check.py [--model PATH ...] [--per-style 40]
        [--seed 12345] [--nondigits 800] [--mnist path/to/mnist] [--markdown]
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

import app  # noqa: E402,F401  (the PySide6 reference-count guard)
from PySide6.QtTest import QTest  # noqa: E402
from app.gc_guard import qt_application  # noqa: E402

from app.reading.canvas import DrawingCanvas  # noqa: E402
from benchmarks.mouse_check import replay  # noqa: E402
from engine.files import data
from engine.handwriting import negatives, nondigit, strokes  # noqa: E402
from engine.net.preprocess import to_mnist  # noqa: E402


def drawn(canvas, style_strokes, brush) -> np.ndarray:
    replay(canvas, style_strokes, brush)
    return to_mnist(canvas.image())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", action="append", help="model file(s) (default: the shipped model)")
    ap.add_argument("--per-style", type=int, default=40)
    ap.add_argument("--seed", type=int, default=12345)
    ap.add_argument("--nondigits", type=int, default=0, help="also draw this many non-digits")
    ap.add_argument("--mnist", default=os.environ.get("DIGITLAB_MNIST",
                                                      str(Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist")))
    ap.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    a = ap.parse_args(argv)
    import engine
    models = [engine.load_model(p) for p in (a.model or [None])]
    names = a.model or ["shipped"]
    qapp = qt_application()
    canvas = DrawingCanvas()
    canvas.resize(280, 280)
    canvas.show()
    QTest.qWaitForWindowExposed(canvas)
    rng = np.random.default_rng(a.seed)
    X, styles = [], []
    for st in strokes.STYLES:
        for _ in range(a.per_style):
            X.append(drawn(canvas, strokes.draw(st, rng), strokes.BRUSH * rng.uniform(0.75, 1.3)))
            styles.append(st)
    X, styles = np.array(X), np.array(styles)
    y = np.array([int(s[0]) for s in styles])
    probs = [m.predict_proba(X) for m in models]
    sep = " | " if a.markdown else "  "
    head = sep.join(["style".ljust(20)] + [f"{Path(n).name[-14:]:>14}" for n in names])
    print(("| " + head + " |\n|" + "---|" * (len(names) + 1)) if a.markdown else head)
    for st in strokes.STYLES:
        m = styles == st
        cells = [f"{100 * (p[m].argmax(1) == y[m]).mean():13.1f}%" for p in probs]
        row = sep.join([(st + (" *" if st in strokes.HARD_STYLES else "")).ljust(20)] + cells)
        print(f"| {row} |" if a.markdown else row)
    hard = np.isin(styles, strokes.HARD_STYLES)
    for n, p in zip(names, probs):
        pred = p.argmax(1)
        wrong = pred != y
        med = float(np.median(p[wrong].max(1))) if wrong.any() else float("nan")
        print(f"{n}: all styles {100 * (~wrong).mean():.1f}% ({len(y)} drawings), the styles MNIST rarely has "
              f"(*) {100 * (~wrong[hard]).mean():.1f}%, others {100 * (~wrong[~hard]).mean():.1f}%; "
              f"median top probability of the misreads {med:.2f}")
    if a.nondigits:
        Xn = []
        kinds = []
        for i in range(a.nondigits):
            img, k = negatives.make_nondigits(1, rng, kinds=(negatives.KINDS[i % len(negatives.KINDS)],))
            Xn.append(img[0])
            kinds.append(k[0].split()[0])
        Xn, kinds = np.array(Xn), np.array(kinds)
        try:
            ds = data.load_local(a.mnist)
        except data.DataError:
            ds = data.load_sample()
        Xt = ds.test_images / 255.0
        for n, m in zip(names, models):
            caught = ~nondigit.is_digit(m, Xn)
            passed = nondigit.is_digit(m, Xt).mean()
            per = ", ".join(f"{k} {100 * caught[kinds == k].mean():.0f}%" for k in negatives.KINDS)
            styled_pass = nondigit.is_digit(m, X).mean()
            print(f"{n}: not a digit: {int(caught.sum())} of {len(caught)} caught ({100 * caught.mean():.1f}%: "
                  f"{per}); {100 * passed:.2f}% of {len(Xt):,} MNIST test digits and {100 * styled_pass:.1f}% "
                  f"of the styled drawings pass as digits")
    del qapp
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
