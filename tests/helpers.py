"""Helpers shared by the tests, the benchmarks and the screenshot tools to drive the window as
a person would: stroke replay (mouse events on the canvas), stand-in strokes, and prompts
that answer without a person (:class:`NoPrompts` for scripts, :class:`FakePrompts` scripted
for tests). Imports Qt; used with ``QT_QPA_PLATFORM=offscreen`` off a display.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEventLoop, QPoint, QPointF, Qt, QTimer
from PySide6.QtTest import QTest

from app.prompts import DISCARD, Prompts

__all__ = ["FakePrompts", "NoPrompts", "drag", "line", "draw_on", "draw_strokes", "three", "curly_seven",
           "render_strokes", "wait_for"]


# -- prompts ---------------------------------------------------------------------------------
class FakePrompts:
    """Answers questions from a script and records every one asked.

    Attributes
    ----------
    answers : dict
        ``ask_save`` ("save", "discard", "cancel"), ``confirm`` (bool), ``open_file``,
        ``save_file``, ``folder``, ``save_folder`` (paths).
    asked : list of (kind, text)
    """

    def __init__(self):
        self.answers = {"ask_save": "discard", "confirm": True, "open_file": "", "save_file": "",
                        "folder": "", "save_folder": ""}
        self.asked = []

    def _answer(self, kind, text):
        self.asked.append((kind, text))
        return self.answers[kind]

    def ask_save(self, text, question):
        return self._answer("ask_save", f"{text} {question}")

    def confirm(self, title, text):
        return self._answer("confirm", text)

    def open_file(self, title, start, filters):
        return self._answer("open_file", title)

    def save_file(self, title, start, filters):
        return self._answer("save_file", title)

    def folder(self, title, start):
        return self._answer("folder", title)

    def save_folder(self, title, start):
        return self._answer("save_folder", title)

    def error(self, title, text):
        self.asked.append(("error", text))

    def note(self, title, text, *, warning=False):
        self.asked.append(("note", text))

    def kinds(self):
        return [k for k, _ in self.asked]

    def texts(self, kind):
        return [t for k, t in self.asked if k == kind]


class NoPrompts(Prompts):
    """Prompts for scripts (screenshots, benchmarks): discard, no, cancel; messages printed."""

    def ask_save(self, text: str, question: str) -> str:
        return DISCARD

    def confirm(self, title: str, text: str) -> bool:
        return False

    def open_file(self, title: str, start: str, filters: str) -> str:
        return ""

    def save_file(self, title: str, start: str, filters: str) -> str:
        return ""

    def folder(self, title: str, start: str) -> str:
        return ""

    def save_folder(self, title: str, start: str) -> str:
        return ""

    def error(self, title: str, text: str) -> None:
        print(f"{title}: {text}")

    def note(self, title: str, text: str, *, warning: bool = False) -> None:
        print(f"{title}: {text}")


# -- strokes ---------------------------------------------------------------------------------
def drag(widget, points, button=Qt.LeftButton):
    """Press at the first point, move through the others, release at the last (widget pixels)."""
    pts = [QPoint(int(x), int(y)) for x, y in points]
    QTest.mousePress(widget, button, Qt.NoModifier, pts[0])
    for p in pts[1:]:
        QTest.mouseMove(widget, p)
    QTest.mouseRelease(widget, button, Qt.NoModifier, pts[-1])


def line(x0, y0, x1, y1, n=12):
    return [(x0 + (x1 - x0) * t, y0 + (y1 - y0) * t) for t in np.linspace(0, 1, n)]


def draw_on(window, points):
    """Draw ``points`` given in 280x280 canvas coordinates on the window's canvas."""
    c = window.canvas
    r = c.target_rect()
    k = r.width() / 280
    drag(c, [(r.x() + x * k, r.y() + y * k) for x, y in points])


def three(n: int = 40) -> np.ndarray:
    """A handwritten-looking 3 as canvas points (280x280), (n, 2)."""
    a = np.radians(np.linspace(200, 450, n // 2))
    b = np.radians(np.linspace(-90, 150, n // 2))
    top = np.stack([0.33 + 0.3 * np.cos(a), 0.25 + 0.25 * np.sin(a)], 1)
    bottom = np.stack([0.33 + 0.33 * np.cos(b), 0.74 + 0.26 * np.sin(b)], 1)
    pts = np.concatenate([top, bottom])
    pts[:, 0] += 0.12 * (0.5 - pts[:, 1])            # a slight right lean
    return pts * 185 + np.array([88, 48])


def draw_strokes(canvas, strokes) -> None:
    """Draw ``strokes`` (each a sequence of (x, y) in 280x280 canvas coordinates) on a
    :class:`app.reading.canvas.DrawingCanvas` with mouse events, as a person would."""
    r = canvas.target_rect()
    k = r.width() / 280
    for s in strokes:
        pts = [QPoint(int(r.x() + x * k), int(r.y() + y * k)) for x, y in s]
        QTest.mousePress(canvas, Qt.LeftButton, Qt.NoModifier, pts[0])
        for p in pts[1:]:
            QTest.mouseMove(canvas, p)
        QTest.mouseRelease(canvas, Qt.LeftButton, Qt.NoModifier, pts[-1])


def curly_seven() -> list[np.ndarray]:
    """Strokes (canvas points, 280x280) of a 7 with a bar and a curved stem, which the shipped
    model reads as a 3."""
    a = np.radians(np.linspace(-60, 80, 30))
    stem = np.stack([120 + 80 * np.cos(a), 150 + 95 * np.sin(a)], 1)
    return [np.array([[80.0, 60.0], [200.0, 55.0]]), np.concatenate([[[200.0, 57.0]], stem])]


def render_strokes(strokes) -> np.ndarray:
    """Render strokes with the app's canvas: the canvas image ``(280, 280)`` float32."""
    from app.reading.canvas import DrawingCanvas, Stroke
    c = DrawingCanvas()
    c.set_strokes([Stroke([QPointF(float(x), float(y)) for x, y in s]) for s in strokes])
    return c.image()


def wait_for(signal, ms: int = 60_000):
    """Run the event loop until ``signal`` fires (or ``ms`` pass); returns its arguments."""
    loop, got = QEventLoop(), []

    def fire(*args):
        got.append(args)
        loop.quit()

    signal.connect(fire)
    QTimer.singleShot(ms, loop.quit)
    loop.exec()
    signal.disconnect(fire)
    return got[0] if got else None
