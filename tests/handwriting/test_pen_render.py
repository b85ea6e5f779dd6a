"""Pen recordings rendered by the engine are what the window's canvas makes of the same strokes."""
from __future__ import annotations

import numpy as np
import pytest

from engine.handwriting import pen, strokes
from engine.handwriting.unipen import PenSample, read_unipen, write_unipen
from engine.net.preprocess import to_mnist


def _samples():
    """A few recordings in device units (y down), as a tablet gives them: a 0, a 7 with a bar, a 4, a dot."""
    t = np.linspace(-0.3, 2 * np.pi + 0.4, 60)
    zero = np.stack([300 + 120 * np.cos(t) + 8 * t, 400 + 200 * np.sin(t)], 1)
    seven = np.array([[100, 100], [300, 100], [180, 500]], float)
    seven_dense = np.concatenate([np.linspace(seven[i], seven[i + 1], 25) for i in range(2)])
    bar = np.linspace([150, 300], [280, 290], 12)
    four = [np.array([[210, 40], [200, 300], [420, 300]], float), np.array([[360, 100], [352, 520]], float)]
    return [PenSample("0", "a", (zero,)), PenSample("7", "b", (seven_dense, bar)),
            PenSample("4", "c", tuple(four)), PenSample("1", "d", (np.array([[5.0, 5.0]]), np.array([[5.0, 90.0],
                                                                                                   [5.2, 20.0]])))]


def _canvas_reading(qtbot, sample):
    from PySide6.QtCore import QPointF

    from app.reading.canvas import DEFAULT_BRUSH_WIDTH, DrawingCanvas, Stroke
    canvas = DrawingCanvas()
    qtbot.addWidget(canvas)
    canvas.set_strokes([Stroke([QPointF(float(x), float(y)) for x, y in s], DEFAULT_BRUSH_WIDTH)
                        for s in pen.place(sample)])
    return canvas.image(), to_mnist(canvas.image())


def test_the_engine_uses_the_windows_pen():
    from app.reading.canvas import CANVAS_SIZE, DEFAULT_BRUSH_WIDTH
    assert strokes.BRUSH == DEFAULT_BRUSH_WIDTH and strokes.CANVAS == CANVAS_SIZE


def test_render_sample_is_what_the_canvas_shows(qtbot, tmp_path):
    samples = read_unipen(write_unipen(_samples(), tmp_path / "mine.unipen.gz"))
    for s in samples:
        big, want = _canvas_reading(qtbot, s)
        mine_big = strokes.render(pen.place(s), strokes.BRUSH, strokes.CANVAS, smooth=True)
        assert np.abs(mine_big - big).mean() < 0.01, s.label      # the 280x280 drawings
        got = pen.render_sample(s)
        assert got.shape == (28, 28) and got.dtype == np.float32
        diff = np.abs(got - want)
        assert diff.mean() < 0.005 and diff.max() < 0.1, (s.label, diff.mean(), diff.max())


def test_a_sample_is_drawn_at_the_size_people_draw_centred():
    s = _samples()[1]
    placed = np.concatenate(pen.place(s))
    lo, hi = placed.min(0), placed.max(0)
    assert (hi - lo).max() == pytest.approx(pen.DRAWN)
    np.testing.assert_allclose((lo + hi) / 2, [strokes.CANVAS / 2] * 2)
    images = pen.render_samples(_samples())
    assert images.shape == (4, 28, 28) and images.max() > 0.9


def test_the_compiled_brush_matches_the_plain_one():
    rng = np.random.default_rng(3)
    drawing = [rng.uniform(20, 90, (7, 2)), np.array([[50.0, 50.0]]), rng.uniform(-10, 110, (3, 2))]
    for smooth in (False, True):
        for width in (3.0, 10.0):
            fast = strokes.render(drawing, width, 100, smooth=smooth)
            slow = strokes.render_reference(drawing, width, 100, smooth=smooth)
            np.testing.assert_allclose(fast, slow, atol=1e-5)


def test_catmull_rom_passes_through_every_point_like_the_canvas_path():
    from PySide6.QtCore import QPointF

    from app.reading.canvas import stroke_path
    p = np.array([[0, 0], [10, 3], [20, 15], [22, 40], [5, 41.0]])
    curve = strokes.catmull_rom(p, step=1.0)
    k = (len(curve) - 1) // (len(p) - 1)
    np.testing.assert_allclose(curve[::k], p)
    path = stroke_path([QPointF(*q) for q in p])
    for frac in (0.1, 0.37, 0.5, 0.81):
        q = path.pointAtPercent(frac)
        assert np.hypot(*(curve - [q.x(), q.y()]).T).min() < 0.5


def test_writers_are_held_out_whole_and_stably():
    writers = [f"inst{i % 7}/writer{i}" for i in range(129)]
    held = pen.held_out_writers(writers)
    assert len(held) == 26 and held <= set(writers)                  # ceil(0.2 * 129)
    assert pen.held_out_writers(list(reversed(writers)) * 2) == held  # order and repeats change nothing
    assert len(pen.held_out_writers([str(i) for i in range(30)])) == 6
    assert pen.held_out_writers(["x"], 0.2) == {"x"}
    samples = [PenSample(str(i % 10), w, ([[i, i]],)) for i, w in enumerate(writers * 3)]
    train, test = pen.split_by_writer(samples)
    assert {s.writer for s in test} == held and not {s.writer for s in train} & held
    assert len(train) + len(test) == len(samples)


def test_real_letters_keeps_only_letters_unlike_any_digit():
    from engine.handwriting import negatives
    stroke = (np.array([[0, 0], [30, 80], [60, 0.0]]),)
    samples = [PenSample(c, "w", stroke, "CHAR") for c in "AOlSx"] + [PenSample("7", "w", stroke)]
    images, chosen = negatives.real_letters(samples)
    assert [s.label for s in chosen] == ["A", "x"] and images.shape == (2, 28, 28)
    assert "O" not in negatives.UNLIKE_DIGITS and "A" in negatives.UNLIKE_DIGITS
