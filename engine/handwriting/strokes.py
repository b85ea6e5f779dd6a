"""Digits drawn stroke by stroke in named handwriting styles, and a brush that renders them.

A style is a list of strokes in a unit box (x from 0 at the left to about 0.7, y from 0 at
the top to 1 at the bottom); each stroke an ``(n, 2)`` array of points. :data:`STYLES`
names them ``"<digit>-<style>"``: MNIST-like ones and those MNIST rarely has (a 9 with a
hooked tail, a 7 with a crossbar, a 4 written open, a 1 with a flag and a base, ...).

:func:`draw` turns a style into a random drawing (slant, rotation, size, aspect, wobble,
jitter, position, mouse-event spacing) on a ``280 x 280`` canvas; :func:`render` paints a
drawing with a round anti-aliased brush, as the window's canvas does (:func:`catmull_rom`: its
smooth path through the points);
:func:`synthesise` makes ``(N, 28, 28)`` images through :func:`engine.net.preprocess.to_mnist`.
A :class:`Writer` draws every digit in one style of its own, with its own slant and size.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from ..net.preprocess import to_mnist

__all__ = ["STYLES", "HARD_STYLES", "CANVAS", "BRUSH", "styles_of", "draw", "render", "render_reference",
           "catmull_rom", "synthesise",
           "Writer", "random_writer"]

#: Side of the canvas drawings are made on (the window's canvas).
CANVAS = 280
#: The window's default brush width, in canvas pixels.
BRUSH = 24.0


def _arc(cx, cy, rx, ry, a0, a1, n=24):
    """Points on an ellipse from angle a0 to a1 (degrees; 0 = right, 90 = down)."""
    a = np.radians(np.linspace(a0, a1, n))
    return np.stack([cx + rx * np.cos(a), cy + ry * np.sin(a)], 1)


def _seg(*pts, n=8):
    """A polyline through ``pts``, each segment sampled with ``n`` points."""
    out = [np.array(pts[0], float)[None]]
    for a, b in zip(pts[:-1], pts[1:]):
        t = np.linspace(0, 1, n)[1:, None]
        out.append(np.array(a, float) + t * (np.array(b, float) - np.array(a, float)))
    return np.concatenate(out)


def _cat(*parts):
    return np.concatenate(parts)


#: Every style, by name ``"<digit>-<style>"``: a list of strokes, each ``(n, 2)`` in the unit box.
STYLES: dict[str, list[np.ndarray]] = {
    "0-oval": [_arc(0.35, 0.5, 0.32, 0.5, -90, 270, 40)],
    "0-slashed": [_arc(0.35, 0.5, 0.3, 0.5, -90, 270, 40), _seg((0.6, 0.1), (0.1, 0.9))],
    "0-overlap": [_cat(_arc(0.35, 0.5, 0.33, 0.48, -100, 250, 40), _seg((0.27, 0.03), (0.45, 0.08)))],
    "1-stick": [_seg((0.35, 0.0), (0.35, 1.0))],
    "1-flag": [_seg((0.05, 0.3), (0.4, 0.0), (0.4, 1.0))],
    "1-flag-base": [_seg((0.05, 0.3), (0.4, 0.0), (0.4, 1.0)), _seg((0.1, 1.0), (0.7, 1.0))],
    "1-long-flag": [_seg((0.0, 0.42), (0.45, 0.0), (0.45, 1.0))],
    "2-plain": [_cat(_arc(0.35, 0.27, 0.3, 0.27, 200, 360, 16), _seg((0.65, 0.3), (0.0, 1.0), (0.7, 1.0)))],
    "2-loop": [_cat(_arc(0.33, 0.25, 0.3, 0.25, 180, 400, 18), _arc(0.2, 0.8, 0.25, 0.2, 330, 170, 14)[1:],
                    _seg((0.0, 0.85), (0.2, 1.0), (0.7, 0.98)))],
    "2-curly": [_cat(_arc(0.35, 0.28, 0.32, 0.28, 190, 380, 18), _seg((0.6, 0.45), (0.05, 0.98)),
                     _arc(0.3, 0.9, 0.35, 0.1, 180, 20, 10)[1:])],
    "3-round": [_cat(_arc(0.33, 0.25, 0.3, 0.25, 200, 450, 20), _arc(0.33, 0.74, 0.33, 0.26, -90, 150, 20))],
    "3-flat-top": [_cat(_seg((0.05, 0.0), (0.6, 0.0), (0.25, 0.42)), _arc(0.3, 0.7, 0.33, 0.3, -90, 160, 20))],
    "4-closed": [_seg((0.55, 0.0), (0.0, 0.65), (0.72, 0.65)), _seg((0.55, 0.0), (0.55, 1.0))],
    "4-open": [_seg((0.12, 0.0), (0.02, 0.58), (0.7, 0.58)), _seg((0.52, 0.08), (0.52, 1.0))],
    "4-open-one-stroke": [_cat(_arc(0.25, 0.3, 0.2, 0.3, 250, 110, 10), _seg((0.12, 0.58), (0.7, 0.55))[1:],
                               _seg((0.7, 0.55), (0.55, 0.1), (0.55, 1.0))[1:])],
    "4-curved": [_cat(_arc(0.3, 0.35, 0.22, 0.3, 240, 120, 10), _seg((0.19, 0.6), (0.72, 0.6))[1:]),
                 _seg((0.56, 0.05), (0.5, 1.0))],
    "5-plain": [_cat(_seg((0.65, 0.0), (0.1, 0.0), (0.05, 0.42)), _arc(0.33, 0.68, 0.33, 0.3, -120, 150, 22))],
    "5-two-strokes": [_cat(_seg((0.1, 0.0), (0.05, 0.45)), _arc(0.32, 0.7, 0.33, 0.28, -125, 150, 22)),
                      _seg((0.1, 0.0), (0.65, 0.0))],
    "6-curve": [_cat(_arc(0.75, 0.55, 0.7, 0.55, 250, 180, 14), _arc(0.35, 0.72, 0.3, 0.28, 180, 530, 30))],
    "6-straight": [_cat(_seg((0.55, 0.0), (0.15, 0.5)), _arc(0.35, 0.72, 0.3, 0.28, 200, 560, 30))],
    "7-plain": [_seg((0.0, 0.0), (0.7, 0.0), (0.25, 1.0))],
    "7-crossbar": [_seg((0.0, 0.05), (0.7, 0.0), (0.3, 1.0)), _seg((0.2, 0.5), (0.68, 0.5))],
    "7-hooked": [_seg((0.02, 0.15), (0.05, 0.0), (0.7, 0.0), (0.4, 0.55), (0.3, 1.0))],
    "7-crossbar-hooked": [_seg((0.02, 0.15), (0.05, 0.0), (0.7, 0.0), (0.3, 1.0)), _seg((0.15, 0.52), (0.65, 0.48))],
    "8-figure": [_cat(_arc(0.35, 0.24, 0.27, 0.24, 90, 450, 26)[:-1][::-1], _arc(0.35, 0.74, 0.33, 0.26, -90, 270, 30))],
    "8-two-loops": [_arc(0.35, 0.25, 0.25, 0.25, 0, 360, 24), _arc(0.35, 0.75, 0.32, 0.25, -90, 270, 28)],
    "9-straight": [_cat(_arc(0.33, 0.28, 0.3, 0.28, 0, -360, 28), _seg((0.63, 0.28), (0.6, 1.0)))],
    "9-hooked": [_cat(_arc(0.33, 0.28, 0.3, 0.28, 0, -360, 28), _seg((0.63, 0.28), (0.63, 0.7)),
                      _arc(0.35, 0.7, 0.28, 0.3, 0, 150, 12)[1:])],
    "9-curved-tail": [_cat(_arc(0.33, 0.27, 0.3, 0.27, 20, -340, 28), _arc(0.0, 0.35, 0.63, 0.65, 0, 110, 14))],
    "9-slanted": [_cat(_arc(0.38, 0.27, 0.3, 0.27, 20, -340, 28), _seg((0.66, 0.35), (0.4, 1.0)))],
}

#: Styles MNIST rarely has (those the issue names first).
HARD_STYLES = ("9-hooked", "9-curved-tail", "7-crossbar", "7-crossbar-hooked", "4-open",
               "4-open-one-stroke", "4-curved", "1-flag", "1-flag-base", "1-long-flag")


def styles_of(digit: int) -> list[str]:
    """Names of the styles of one digit."""
    return [k for k in STYLES if k.startswith(f"{int(digit)}-")]


def draw(style, rng: np.random.Generator, *, slant: float | None = None, height: float | None = None,
         aspect: float | None = None, size: int = CANVAS) -> list[np.ndarray]:
    """One random drawing of a style, as the mouse reports it.

    Parameters
    ----------
    style : str or list of ndarray
        A key of :data:`STYLES`, or strokes ``(n, 2)`` in the unit box.
    rng : numpy.random.Generator
    slant, height, aspect : float or None
        A writer's own slant (x shift per unit height, right lean > 0), height (fraction of the
        canvas) and width factor; None draws them at random. Jitter is added either way.
    size : int
        Canvas side.

    Returns
    -------
    list of ndarray of int, each (n, 2)
        Strokes of (x, y) canvas pixels, points 3 to 14 pixels apart.
    """
    base = STYLES[style] if isinstance(style, str) else style
    h = size * (rng.uniform(0.55, 0.78) if height is None else height * rng.uniform(0.93, 1.07))
    sl = rng.uniform(-0.3, 0.35) if slant is None else slant + rng.uniform(-0.06, 0.06)
    asp = rng.uniform(0.8, 1.25) if aspect is None else aspect * rng.uniform(0.94, 1.06)
    angle = np.radians(rng.uniform(-8, 8))
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    strokes = []
    for s in base:
        p = s.copy()
        p[:, 0] = p[:, 0] * asp + sl * (0.5 - p[:, 1])
        p = (p - 0.5) @ rot.T * h
        t = np.linspace(0, 1, len(p))
        wob = rng.uniform(0.0, 0.03) * h
        ph = rng.uniform(0, 2 * np.pi, 2)
        p[:, 0] += wob * np.sin(2 * np.pi * t * rng.uniform(0.5, 2) + ph[0])
        p[:, 1] += wob * np.sin(2 * np.pi * t * rng.uniform(0.5, 2) + ph[1])
        p += rng.normal(0, 0.8, p.shape)
        strokes.append(p)
    allp = np.concatenate(strokes)
    lo, hi = allp.min(0), allp.max(0)
    margin = 14
    room = np.maximum(size - 2 * margin - (hi - lo), 0)
    offset = margin - lo + rng.uniform(0, 1, 2) * room
    return [_mouse(s + offset, rng) for s in strokes]


def _mouse(stroke: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The stroke as a mouse reports it: points every 3-14 pixels along it, whole pixels."""
    d = np.r_[0, np.cumsum(np.hypot(*np.diff(stroke, axis=0).T))]
    step = rng.uniform(3, 14)
    s = np.r_[np.arange(0, d[-1], step), d[-1]]
    pts = np.stack([np.interp(s, d, stroke[:, 0]), np.interp(s, d, stroke[:, 1])], 1)
    return np.round(pts).astype(int)


def catmull_rom(points, step: float = 4.0) -> np.ndarray:
    """The smooth path the window's canvas draws through a stroke's points, as a polyline.

    The canvas (``app.reading.canvas.stroke_path``) draws a Catmull-Rom spline through every point:
    between points ``p1`` and ``p2`` the cubic Bezier with control points
    ``p1 + (p2 - p0) / 6`` and ``p2 - (p3 - p1) / 6`` (the end points doubled); two points
    are a straight line. Each piece is flattened into chords of about ``step`` pixels.

    Parameters
    ----------
    points : array-like, (n, 2)
    step : float
        Longest chord wanted, in pixels (at most 32 chords a piece).

    Returns
    -------
    ndarray, (m, 2), float64
        The points themselves for ``n <= 2``; else ``m = (n - 1) * k + 1`` points on the curve,
        passing through every input point.
    """
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if len(p) <= 2:
        return p
    p0 = np.concatenate([p[:1], p[:-2]])          # (n-1, 2): the point before p1 (p1 itself first)
    p1, p2 = p[:-1], p[1:]
    p3 = np.concatenate([p[2:], p[-1:]])           # the point after p2 (p2 itself last)
    c1 = p1 + (p2 - p0) / 6.0
    c2 = p2 - (p3 - p1) / 6.0
    hull = (np.hypot(*(c1 - p1).T) + np.hypot(*(c2 - c1).T) + np.hypot(*(p2 - c2).T)).max()
    k = int(np.clip(np.ceil(hull / step), 1, 32))
    t = (np.arange(1, k + 1) / k)[None, :, None]   # (1, k, 1)
    u = 1.0 - t
    curve = (u ** 3 * p1[:, None] + 3 * u ** 2 * t * c1[:, None] + 3 * u * t ** 2 * c2[:, None]
             + t ** 3 * p2[:, None])               # (n-1, k, 2)
    return np.concatenate([p[:1], curve.reshape(-1, 2)])


@njit(cache=True)
def _paint(points, starts, r, size, out):  # pragma: no cover - numba
    """Paint polylines ``points[starts[s]:starts[s+1]]`` onto ``out`` (size, size) float32.

    Within a polyline a pixel's coverage is ``clip(r + 0.5 - d, 0, 1)`` (d: distance from the
    pixel's centre to the polyline), the largest over its chords; polylines are laid over
    each other as paint is (``1 - (1 - below)(1 - coverage)``)."""
    layer = np.zeros((size, size), np.float32)
    for s in range(len(starts) - 1):
        a, b = starts[s], starts[s + 1]
        if b <= a:
            continue
        x0, y0, x1, y1 = size, size, 0, 0
        for i in range(a, b):
            x0 = min(x0, max(int(np.floor(points[i, 0] - r - 1)), 0))
            y0 = min(y0, max(int(np.floor(points[i, 1] - r - 1)), 0))
            x1 = max(x1, min(int(np.ceil(points[i, 0] + r + 2)), size))
            y1 = max(y1, min(int(np.ceil(points[i, 1] + r + 2)), size))
        if x1 <= x0 or y1 <= y0:
            continue
        layer[y0:y1, x0:x1] = 0.0
        for i in range(a, max(b - 1, a + 1)):
            ax, ay = points[i, 0], points[i, 1]
            j = i + 1 if b - a > 1 else i
            dx, dy = points[j, 0] - ax, points[j, 1] - ay
            L = dx * dx + dy * dy
            lx = max(int(np.floor(min(ax, ax + dx) - r - 1)), 0)
            ly = max(int(np.floor(min(ay, ay + dy) - r - 1)), 0)
            hx = min(int(np.ceil(max(ax, ax + dx) + r + 2)), size)
            hy = min(int(np.ceil(max(ay, ay + dy) + r + 2)), size)
            for y in range(ly, hy):
                qy = y + 0.5 - ay
                for x in range(lx, hx):
                    if layer[y, x] >= 1.0:
                        continue
                    qx = x + 0.5 - ax
                    t = 0.0
                    if L > 0:
                        t = min(max((qx * dx + qy * dy) / L, 0.0), 1.0)
                    ex, ey = qx - t * dx, qy - t * dy
                    c = min(max(r + 0.5 - np.sqrt(ex * ex + ey * ey), 0.0), 1.0)
                    if c > layer[y, x]:
                        layer[y, x] = c
        for y in range(y0, y1):
            for x in range(x0, x1):
                out[y, x] = 1.0 - (1.0 - out[y, x]) * (1.0 - layer[y, x])


def _polylines(strokes, smooth: bool):
    parts = [np.asarray(s, dtype=np.float64).reshape(-1, 2) for s in strokes]
    parts = [catmull_rom(p) if smooth else p for p in parts if len(p)]
    starts = np.cumsum([0] + [len(p) for p in parts]).astype(np.int64)
    pts = np.concatenate(parts) if parts else np.zeros((0, 2))
    return np.ascontiguousarray(pts), starts


def render(strokes, width: float = BRUSH, size: int = CANVAS, *, smooth: bool = False) -> np.ndarray:
    """Paint strokes with a round, anti-aliased brush, as the window's canvas does.

    Parameters
    ----------
    strokes : list of array-like, each (n, 2)
        (x, y) points in canvas pixels; a one-point stroke is a dot.
    width : float
        Brush diameter in canvas pixels.
    size : int
    smooth : bool
        Draw each stroke along the Catmull-Rom spline through its points (:func:`catmull_rom`,
        as the canvas does) instead of straight chords.

    Returns
    -------
    ndarray, (size, size), float32 in [0, 1]
        White ink on black. A pixel's coverage by one stroke is ``clip(r + 0.5 - d, 0, 1)``
        (``r`` half the width, ``d`` the distance from the pixel's centre to the stroke);
        strokes are laid over each other as paint is. Compiled (numba);
        :func:`render_reference` is the plain NumPy version it is checked against.
    """
    img = np.zeros((int(size), int(size)), np.float32)
    pts, starts = _polylines(strokes, smooth)
    if len(pts):
        _paint(pts, starts, float(width) / 2.0, int(size), img)
    return img


def render_reference(strokes, width: float = BRUSH, size: int = CANVAS, *, smooth: bool = False) -> np.ndarray:
    """:func:`render` in plain NumPy, chord by chord (the reference the compiled one is tested against)."""
    img = np.zeros((size, size), np.float32)
    r = width / 2.0
    ys, xs = np.mgrid[0:size, 0:size]
    for s in strokes:
        p = np.asarray(s, float).reshape(-1, 2)
        if smooth:
            p = catmull_rom(p)
        if len(p) == 0:
            continue
        if len(p) == 1:
            p = np.concatenate([p, p])
        layer = np.zeros((size, size))
        for a0, b0 in zip(p[:-1], p[1:]):
            qx, qy = xs + 0.5 - a0[0], ys + 0.5 - a0[1]
            ab = b0 - a0
            L = float(ab @ ab)
            t = np.zeros(qx.shape) if L == 0 else np.clip((qx * ab[0] + qy * ab[1]) / L, 0, 1)
            d = np.hypot(qx - t * ab[0], qy - t * ab[1])
            np.maximum(layer, np.clip(r + 0.5 - d, 0, 1), out=layer)
        img = (1.0 - (1.0 - img) * (1.0 - layer)).astype(np.float32)
    return img


def synthesise(styles, rng: np.random.Generator, *, writer: "Writer | None" = None) -> np.ndarray:
    """28x28 images of drawings of the given styles, made as the window makes them.

    Parameters
    ----------
    styles : sequence of str
        One style name per image.
    rng : numpy.random.Generator
    writer : Writer or None
        Draw with this writer's slant, size, width and brush (else random ones per image).

    Returns
    -------
    ndarray, (N, 28, 28), float32 in [0, 1]
    """
    out = np.empty((len(styles), 28, 28), np.float32)
    for i, st in enumerate(styles):
        if writer is None:
            strokes = draw(st, rng)
            brush = BRUSH * rng.uniform(0.75, 1.3)
        else:
            strokes = draw(st, rng, slant=writer.slant, height=writer.height, aspect=writer.aspect)
            brush = writer.brush * rng.uniform(0.95, 1.05)
        # drawn at a quarter of the canvas's resolution: to_mnist shrinks it to 20 pixels anyway
        out[i] = to_mnist(render([st_ / 4.0 for st_ in strokes], brush / 4.0, CANVAS // 4))
    return out


@dataclass(frozen=True)
class Writer:
    """A simulated writer: one style per digit, a slant, a size, a width and a brush.

    Attributes
    ----------
    styles : tuple of str, (10,)
        The style of each digit 0-9.
    slant, height, aspect, brush : float
    """

    styles: tuple
    slant: float
    height: float
    aspect: float
    brush: float

    def digits(self, labels, rng: np.random.Generator) -> np.ndarray:
        """This writer's drawings of ``labels`` ``(N,)``: images ``(N, 28, 28)`` in [0, 1]."""
        return synthesise([self.styles[int(d)] for d in labels], rng, writer=self)


def random_writer(rng: np.random.Generator, *, hard: bool = True) -> Writer:
    """A writer with random traits; ``hard`` prefers the styles MNIST rarely has."""
    styles = []
    for d in range(10):
        names = styles_of(d)
        pool = [n for n in names if n in HARD_STYLES] if hard else []
        styles.append(str(rng.choice(pool if pool and rng.random() < 0.8 else names)))
    return Writer(tuple(styles), float(rng.uniform(-0.25, 0.35)), float(rng.uniform(0.55, 0.78)),
                  float(rng.uniform(0.8, 1.25)), float(BRUSH * rng.uniform(0.75, 1.3)))
