"""Does the shipped model read digits drawn with a mouse on the canvas?

Synthesises mouse-drawn digits as stroke lists -- hand-made polylines of each digit
0-9 in several styles, with random jitter, wobble, slant, rotation, size (about two
thirds of the canvas height), position, brush width and mouse-event spacing -- replays
them as QTest mouse events on a 280x280 :class:`app.reading.canvas.DrawingCanvas`, preprocesses
the canvas like MNIST (:func:`engine.net.preprocess.to_mnist`) and classifies the result.
Prints the accuracy per digit and overall, and how the drawings compare with MNIST
(ink per image, stroke thickness).

Usage::

    QT_QPA_PLATFORM=offscreen python benchmarks/mouse_check.py [--model PATH]
        [--per-digit 40] [--seed 0] [--brush 22] [--no-preprocess] [--save-examples PNG]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

import app  # noqa: E402,F401  (the PySide6 reference-count guard)
from PySide6.QtCore import QPoint, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from app.gc_guard import qt_application  # noqa: E402

from app.reading.canvas import DEFAULT_BRUSH_WIDTH, DrawingCanvas  # noqa: E402
from engine.net.preprocess import ink_box, to_mnist  # noqa: E402

T = np.linspace


def arc(cx, cy, rx, ry, a0, a1, n=24):
    """Points on an ellipse from angle a0 to a1 (degrees; 0 = right, 90 = down)."""
    a = np.radians(T(a0, a1, n))
    return np.stack([cx + rx * np.cos(a), cy + ry * np.sin(a)], 1)


def seg(*pts, n=8):
    """A polyline through ``pts``, each segment sampled with ``n`` points."""
    out = [np.array(pts[0], float)[None]]
    for a, b in zip(pts[:-1], pts[1:]):
        t = T(0, 1, n)[1:, None]
        out.append(np.array(a, float) + t * (np.array(b, float) - np.array(a, float)))
    return np.concatenate(out)


def cat(*parts):
    return np.concatenate(parts)


# Digits in a unit box: x from 0 (left) to ~0.7, y from 0 (top) to 1 (bottom).
# Each style is a list of strokes; each stroke an (n, 2) array.
STYLES: dict[int, list[list[np.ndarray]]] = {
    0: [[arc(0.35, 0.5, 0.32, 0.5, -90, 270, 40)],
        [arc(0.35, 0.5, 0.28, 0.5, -60, 320, 40)],
        [cat(arc(0.35, 0.5, 0.33, 0.48, -100, 250, 40), seg((0.27, 0.03), (0.4, 0.05)))]],
    1: [[seg((0.35, 0.0), (0.35, 1.0))],
        [seg((0.15, 0.2), (0.38, 0.0), (0.38, 1.0))],
        [seg((0.18, 0.18), (0.38, 0.0), (0.38, 1.0)), seg((0.18, 1.0), (0.58, 1.0))],
        [seg((0.42, 0.0), (0.3, 1.0))]],
    2: [[cat(arc(0.35, 0.27, 0.3, 0.27, 200, 360, 16), seg((0.65, 0.3), (0.0, 1.0), (0.7, 1.0)))],
        [cat(arc(0.35, 0.28, 0.32, 0.28, 190, 380, 18),
             seg((0.6, 0.45), (0.05, 0.98), (0.7, 0.98)))],
        [cat(arc(0.33, 0.25, 0.3, 0.25, 180, 400, 18), arc(0.2, 0.8, 0.25, 0.2, 330, 170, 14)[1:],
             seg((0.0, 0.85), (0.2, 1.0), (0.7, 0.98)))]],
    3: [[cat(arc(0.33, 0.25, 0.3, 0.25, 200, 450, 20), arc(0.33, 0.74, 0.33, 0.26, -90, 150, 20))],
        [cat(seg((0.05, 0.0), (0.6, 0.0), (0.25, 0.42)), arc(0.3, 0.7, 0.33, 0.3, -90, 160, 20))],
        [cat(arc(0.3, 0.24, 0.32, 0.24, 210, 440, 20), arc(0.3, 0.74, 0.36, 0.26, -80, 140, 20))]],
    4: [[seg((0.1, 0.0), (0.0, 0.6), (0.7, 0.6)), seg((0.52, 0.1), (0.52, 1.0))],
        [seg((0.55, 0.0), (0.0, 0.65), (0.72, 0.65)), seg((0.55, 0.0), (0.55, 1.0))],
        [seg((0.15, 0.0), (0.05, 0.55), (0.55, 0.55)), seg((0.55, 0.0), (0.55, 1.0))]],
    5: [[cat(seg((0.65, 0.0), (0.1, 0.0), (0.05, 0.42)),
             arc(0.33, 0.68, 0.33, 0.3, -120, 150, 22))],
        [cat(seg((0.1, 0.0), (0.05, 0.45)), arc(0.32, 0.7, 0.33, 0.28, -125, 150, 22)),
         seg((0.1, 0.0), (0.65, 0.0))],
        [cat(seg((0.6, 0.02), (0.12, 0.0), (0.08, 0.45)), arc(0.3, 0.7, 0.34, 0.3, -110, 160, 22))]],
    6: [[cat(arc(0.75, 0.55, 0.7, 0.55, 250, 180, 14), arc(0.35, 0.72, 0.3, 0.28, 180, 530, 30))],
        [cat(seg((0.55, 0.0), (0.15, 0.5)), arc(0.35, 0.72, 0.3, 0.28, 200, 560, 30))],
        [cat(arc(0.7, 0.6, 0.62, 0.6, 260, 180, 14), arc(0.32, 0.75, 0.3, 0.25, 180, 520, 30))]],
    7: [[seg((0.0, 0.0), (0.7, 0.0), (0.25, 1.0))],
        [seg((0.0, 0.05), (0.7, 0.0), (0.3, 1.0)), seg((0.2, 0.5), (0.62, 0.5))],
        [seg((0.02, 0.12), (0.05, 0.0), (0.7, 0.0), (0.4, 0.55), (0.3, 1.0))]],
    8: [[cat(arc(0.35, 0.24, 0.27, 0.24, 90, 360 + 90, 26)[:-1][::-1],
             arc(0.35, 0.74, 0.33, 0.26, -90, 270, 30))],
        [cat(arc(0.35, 0.25, 0.25, 0.25, 0, 270, 20)[::-1], seg((0.6, 0.3), (0.05, 0.7)),
             arc(0.35, 0.75, 0.3, 0.25, 180, -90, 18)[1:], seg((0.4, 0.5), (0.1, 0.3)))],
        [arc(0.35, 0.25, 0.25, 0.25, 0, 360, 24), arc(0.35, 0.75, 0.32, 0.25, -90, 270, 28)]],
    9: [[cat(arc(0.33, 0.28, 0.3, 0.28, 0, -360, 28), seg((0.63, 0.28), (0.6, 1.0)))],
        [cat(arc(0.33, 0.27, 0.3, 0.27, 20, -340, 28), seg((0.63, 0.35), (0.5, 1.0)))],
        [cat(arc(0.33, 0.28, 0.3, 0.28, 0, -360, 28), seg((0.63, 0.28), (0.63, 0.75)),
             arc(0.38, 0.75, 0.25, 0.25, 0, 150, 10)[1:])]],
}


def make_drawing(digit: int, rng: np.random.Generator, size: int = 280):
    """One random mouse drawing of ``digit``: a list of strokes in canvas pixels, and a brush width."""
    style = STYLES[digit][rng.integers(len(STYLES[digit]))]
    height = size * rng.uniform(0.58, 0.75)                 # about two thirds of the canvas
    slant = rng.uniform(-0.3, 0.35)                          # x shift per unit of height (right lean > 0)
    angle = np.radians(rng.uniform(-8, 8))
    aspect = rng.uniform(0.85, 1.2)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    strokes = []
    for s in style:
        p = s.copy()
        p[:, 0] = p[:, 0] * aspect + slant * (0.5 - p[:, 1])
        p = (p - 0.5) @ rot.T * height
        # hand wobble: a smooth random displacement along the stroke, plus jitter
        n = len(p)
        phase = rng.uniform(0, 2 * np.pi, 2)
        wob = rng.uniform(0.0, 0.025) * height
        t = T(0, 1, n)
        p[:, 0] += wob * np.sin(2 * np.pi * t * rng.uniform(0.5, 2) + phase[0])
        p[:, 1] += wob * np.sin(2 * np.pi * t * rng.uniform(0.5, 2) + phase[1])
        p += rng.normal(0, 0.8, p.shape)
        strokes.append(p)
    allp = np.concatenate(strokes)
    lo, hi = allp.min(0), allp.max(0)
    margin = 14
    room = np.maximum(size - margin * 2 - (hi - lo), 0)
    offset = margin - lo + rng.uniform(0, 1, 2) * room
    strokes = [s + offset for s in strokes]
    brush = DEFAULT_BRUSH_WIDTH * rng.uniform(0.8, 1.25)
    return [mouse_events(s, rng) for s in strokes], brush


def mouse_events(stroke: np.ndarray, rng) -> np.ndarray:
    """The stroke as a mouse would report it: points every 3-14 pixels along it, whole pixels."""
    d = np.r_[0, np.cumsum(np.hypot(*np.diff(stroke, axis=0).T))]
    step = rng.uniform(3, 14)
    s = np.r_[np.arange(0, d[-1], step), d[-1]]
    pts = np.stack([np.interp(s, d, stroke[:, 0]), np.interp(s, d, stroke[:, 1])], 1)
    return np.round(pts).astype(int)


def replay(canvas: DrawingCanvas, strokes, brush: float) -> None:
    """Draw ``strokes`` (lists of integer points) on ``canvas`` with QTest mouse events."""
    canvas.clear()
    canvas.set_brush_width(brush)
    for s in strokes:
        pts = [QPoint(int(x), int(y)) for x, y in s]
        QTest.mousePress(canvas, Qt.LeftButton, Qt.NoModifier, pts[0])
        for p in pts[1:]:
            QTest.mouseMove(canvas, p)
        QTest.mouseRelease(canvas, Qt.LeftButton, Qt.NoModifier, pts[-1])


def stroke_thickness(img28: np.ndarray) -> float:
    """Mean stroke thickness of a 28x28 digit: ink area over the length of its centre line,
    estimated as ink / (half the perimeter of the ink above 0.5)."""
    ink = img28 > 0.5
    edges = (np.abs(np.diff(ink.astype(int), axis=0)).sum() + np.abs(np.diff(ink.astype(int), axis=1)).sum())
    return float(ink.sum() / max(edges / 2.0, 1.0))


def mnist_reference():
    """Mean ink and stroke thickness of MNIST test digits, if the data is at hand."""
    try:
        from engine.files import data as edata
        ds = edata.load_local(os.environ.get("DIGITLAB_MNIST", str(Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist")))
        X = ds.test_images[:2000] / 255.0
    except Exception:
        import gzip
        p = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist" / "t10k-images-idx3-ubyte.gz"
        if not p.exists():
            return None
        with gzip.open(p) as f:
            X = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)[:2000] / 255.0
    return float(X.sum((1, 2)).mean()), float(np.mean([stroke_thickness(x) for x in X]))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", help="model file (default: the shipped model)")
    ap.add_argument("--per-digit", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--brush", type=float, default=None, help="override the brush width (canvas pixels)")
    ap.add_argument("--no-preprocess", action="store_true")
    ap.add_argument("--save-examples", help="save a PNG mosaic of the 28x28 inputs here")
    args = ap.parse_args(argv)

    import engine
    model = engine.load_model(args.model)
    qapp = qt_application()
    canvas = DrawingCanvas()
    canvas.resize(280, 280)
    canvas.show()
    QTest.qWaitForWindowExposed(canvas)
    rng = np.random.default_rng(args.seed)
    scale_brush = 1.0 if args.brush is None else args.brush / DEFAULT_BRUSH_WIDTH

    t0 = time.perf_counter()
    inputs, labels = [], []
    for d in range(10):
        for _ in range(args.per_digit):
            strokes, brush = make_drawing(d, rng)
            replay(canvas, strokes, brush * scale_brush)
            inputs.append(to_mnist(canvas.image(), preprocess=not args.no_preprocess))
            labels.append(d)
    X, y = np.array(inputs), np.array(labels)
    pred = model.predict_proba(X).argmax(1)
    dt = time.perf_counter() - t0

    print(f"model: {model.title}  (brush {DEFAULT_BRUSH_WIDTH * scale_brush:.0f} px x U(0.8, 1.25), "
          f"preprocess {'off' if args.no_preprocess else 'on'}, seed {args.seed})")
    print(f"{len(y)} drawings replayed as mouse events in {dt:.1f} s")
    for d in range(10):
        m = y == d
        wrong = np.bincount(pred[m & (pred != d)], minlength=10)
        conf = ", ".join(f"{k}:{c}" for k, c in enumerate(wrong) if c)
        print(f"  digit {d}: {np.mean(pred[m] == d) * 100:5.1f}%" + (f"   read as {conf}" if conf else ""))
    print(f"overall: {np.mean(pred == y) * 100:.1f}% ({int((pred == y).sum())}/{len(y)})")
    ink = X.sum((1, 2)).mean()
    thick = np.mean([stroke_thickness(x) for x in X])
    ref = mnist_reference()
    line = f"drawings: mean ink {ink:.0f}, stroke thickness {thick:.2f} px"
    if ref:
        line += f"   |   MNIST test: mean ink {ref[0]:.0f}, stroke thickness {ref[1]:.2f} px"
    print(line)
    if args.save_examples:
        from PySide6.QtGui import QImage
        rows = [np.concatenate(list(X[y == d][:12]), axis=1) for d in range(10)]
        mosaic = (np.concatenate(rows, axis=0) * 255).astype(np.uint8)
        mosaic = np.ascontiguousarray(np.kron(mosaic, np.ones((3, 3), np.uint8)))
        img = QImage(mosaic.data, mosaic.shape[1], mosaic.shape[0], mosaic.shape[1], QImage.Format_Grayscale8)
        img.copy().save(args.save_examples)
    del qapp
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
