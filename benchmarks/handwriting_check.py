"""Does a model read real people's digits? Measured by writer, on writers it never saw.

For each digit collection of the pen data (:data:`engine.handwriting.pen.COLLECTIONS`), the writers
:func:`engine.handwriting.pen.held_out_writers` keeps out of training (a fifth, by a stable hash of their
names) have their digits drawn as the window would draw them (:func:`engine.handwriting.pen.render_samples`)
and read by :func:`engine.read`: accuracy over all their digits, the mean, 10th-percentile
and worst writer, and the main confusions. With ``--letters``, the "not a digit" figures:
how many of the held-out writers' letters that look like no digit
(:data:`engine.handwriting.negatives.UNLIKE_DIGITS`) read "not a digit" or "not sure", and how many real
pen digits and MNIST test digits (``--mnist``) are flagged. With ``--canvas N``, N held-out
digits are also replayed on the window's :class:`app.reading.canvas.DrawingCanvas` and the 28x28
images compared with the engine's.

Usage (from the repository root)::

    python benchmarks/handwriting_check.py --pen path/to/pen [--model PATH] [--before PATH]
        [--mnist path/to/mnist] [--letters] [--canvas 500] [--markdown]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

import engine  # noqa: E402
from engine.handwriting import negatives, pen  # noqa: E402


def by_writer(model, images, samples) -> dict:
    """Accuracy figures of one model on one collection's held-out digits."""
    r = engine.read(model, images)
    y = pen.labels_of(samples)
    right = r.digit == y
    writers = np.array([s.writer for s in samples])
    names = sorted(set(writers))
    acc = np.array([right[writers == w].mean() for w in names])
    conf = Counter((int(t), int(p)) for t, p in zip(y[~right], r.digit[~right]))
    return {"n": len(y), "writers": len(names), "accuracy": 100 * right.mean(), "mean": 100 * acc.mean(),
            "p10": 100 * np.percentile(acc, 10), "worst": 100 * acc.min(),
            "confusions": conf.most_common(5), "flagged": 100 * r.flagged().mean()}


def canvas_difference(samples) -> dict:
    """Replay samples on the window's canvas; compare ``to_mnist(canvas.image())`` with
    :func:`engine.handwriting.pen.render_sample`."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import app  # noqa: F401  (the PySide6 reference-count guard)
    from PySide6.QtCore import QPointF

    from app.gc_guard import qt_application
    from app.reading.canvas import DEFAULT_BRUSH_WIDTH, DrawingCanvas, Stroke
    qt_application()
    canvas = DrawingCanvas()
    diffs = []
    for s in samples:
        canvas.set_strokes([Stroke([QPointF(float(x), float(y)) for x, y in st], DEFAULT_BRUSH_WIDTH)
                            for st in pen.place(s)])
        diffs.append(np.abs(engine.to_mnist(canvas.image()) - pen.render_sample(s)))
    d = np.array(diffs)
    per = d.max(axis=(1, 2))
    return {"n": len(d), "mean": float(d.mean()), "max": float(d.max()),
            "median_image_max": float(np.median(per)), "shifted": float((per > 0.5).mean() * 100)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pen", required=True, help="folder of the pen recordings")
    ap.add_argument("--model", help="model file (default: the shipped model)")
    ap.add_argument("--before", help="another model (the one before) measured the same way")
    ap.add_argument("--fraction", type=float, default=0.2, help="writers held out (0.2)")
    ap.add_argument("--letters", action="store_true", help="also the not-a-digit figures")
    ap.add_argument("--mnist", help="MNIST folder: also the test set's accuracy and flagged digits")
    ap.add_argument("--canvas", type=int, default=0, help="replay this many digits on the canvas")
    ap.add_argument("--markdown", action="store_true", help="tables in Markdown")
    a = ap.parse_args(argv)
    models = {"after": engine.load_model(a.model)}
    if a.before:
        models = {"before": engine.load_model(a.before), **models}
    t0 = time.perf_counter()
    held = {}
    for name in pen.COLLECTIONS:
        _, test = pen.split_by_writer(pen.load_collection(a.pen, name), a.fraction)
        held[name] = (pen.render_samples(test), test)
    print(f"held-out digits rendered in {time.perf_counter() - t0:.1f} s")
    bar = "|" if a.markdown else ""
    print(f"{bar} collection {bar} model {bar} digits {bar} writers {bar} accuracy {bar} mean writer "
          f"{bar} 10th pct writer {bar} worst writer {bar} flagged {bar} main confusions (true→read ×n) {bar}")
    if a.markdown:
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for name, (X, S) in held.items():
        for label, m in models.items():
            f = by_writer(m, X, S)
            conf = ", ".join(f"{t}→{p} ×{n}" for (t, p), n in f["confusions"])
            print(f"{bar} {name} {bar} {label} {bar} {f['n']:,} {bar} {f['writers']} {bar} {f['accuracy']:.1f}% "
                  f"{bar} {f['mean']:.1f}% {bar} {f['p10']:.1f}% {bar} {f['worst']:.1f}% {bar} "
                  f"{f['flagged']:.1f}% {bar} {conf} {bar}")
    if a.mnist:
        from engine.files import data
        ds = data.load("local", a.mnist)
        Xm, ym = ds.test_images / 255.0, ds.test_labels
        for label, m in models.items():
            r = engine.read(m, Xm)
            print(f"MNIST test ({label}): arg-max accuracy {100 * (r.digit == ym).mean():.2f}%, "
                  f"flagged {100 * r.flagged().mean():.2f}% (not sure {100 * (r.verdict == 'not sure').mean():.2f}%, "
                  f"not a digit {100 * (r.verdict == 'not a digit').mean():.2f}%)")
    if a.letters:
        letters = pen.load_collection(a.pen, "letters")
        held_w = pen.held_out_writers((s.writer for s in letters), a.fraction)
        XL, SL = negatives.real_letters([s for s in letters if s.writer in held_w])
        print(f"letters unlike any digit, by {len(held_w)} held-out writers: {len(SL):,}")
        for label, m in models.items():
            r = engine.read(m, XL)
            labels = np.array([s.label for s in SL])
            worst = sorted(((r.flagged()[labels == c].mean(), c) for c in negatives.UNLIKE_DIGITS))[:4]
            print(f"  {label}: flagged {100 * r.flagged().mean():.1f}% (not a digit "
                  f"{100 * (r.verdict == 'not a digit').mean():.1f}%, not sure "
                  f"{100 * (r.verdict == 'not sure').mean():.1f}%); least caught: "
                  + ", ".join(f"{c} {100 * v:.0f}%" for v, c in worst))
            for name, (X, S) in held.items():
                print(f"  {label}: held-out {name} digits flagged {100 * engine.read(m, X).flagged().mean():.2f}%")
    if a.canvas:
        rng = np.random.default_rng(0)
        pool = [s for _, S in held.values() for s in S]
        chosen = [pool[i] for i in rng.choice(len(pool), min(a.canvas, len(pool)), replace=False)]
        c = canvas_difference(chosen)
        print(f"canvas replay of {c['n']} held-out digits: |engine - canvas| on the 28x28 image: mean "
              f"{c['mean']:.4f}, median of each image's largest {c['median_image_max']:.3f}, largest {c['max']:.3f}; "
              f"{c['shifted']:.1f}% of images differ by more than 0.5 somewhere (centring a pixel apart)")
    print(f"{time.perf_counter() - t0:.1f} s in all")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
