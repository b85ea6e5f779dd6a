"""The drawing canvas: strokes, erasing, undo, brush width, tablets."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from app.reading.canvas import DrawingCanvas
from engine.net.preprocess import centre_of_mass, ink_box, to_mnist

from tests.helpers import drag, line


@pytest.fixture
def canvas(qtbot):
    c = DrawingCanvas()
    qtbot.addWidget(c)
    c.resize(280, 280)
    c.show()
    qtbot.waitExposed(c)
    return c


def test_vertical_stroke_gives_centred_bar(canvas):
    drag(canvas, line(140, 50, 140, 230))
    img = canvas.image()
    assert img.shape == (280, 280) and img.dtype == np.float32
    assert 0.0 <= img.min() and img.max() == 1.0
    top, bottom, left, right = ink_box(img, 0.5)
    w = canvas.brush_width()
    assert abs(top - (50 - w / 2)) <= 2 and abs(bottom - (230 + w / 2)) <= 2   # round caps
    assert abs((left + right) / 2 - 140) <= 1 and abs((right - left) - w) <= 2
    x = to_mnist(img)
    t, b, l, r = ink_box(x, 0.05)
    assert b - t == 20 and 1 <= r - l <= 4              # a thin upright bar, 20 pixels high
    cy, cx = centre_of_mass(x)
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5


def test_strokes_are_smooth_and_antialiased(canvas):
    drag(canvas, [(60, 60), (140, 200), (220, 60)])    # a V: a sharp turn at the bottom
    img = canvas.image()
    grey = ((img > 0.05) & (img < 0.95)).sum()
    assert grey > 50                                   # anti-aliased edges
    # the interpolation connects the three events: ink all along both arms
    for t in np.linspace(0.1, 0.9, 9):
        x, y = 60 + 80 * t, 60 + 140 * t
        assert img[int(y), int(x)] > 0.5


def test_right_button_erases_undo_and_clear(canvas, qtbot):
    drag(canvas, line(40, 140, 240, 140))
    assert canvas.image()[140, 140] == 1.0
    drag(canvas, line(140, 100, 140, 180), button=Qt.RightButton)
    assert canvas.image()[140, 140] == 0.0 and canvas.image()[140, 60] == 1.0
    with qtbot.waitSignal(canvas.imageChanged):
        QTest.keyClick(canvas, Qt.Key_Z, Qt.ControlModifier)     # undo the erasing
    assert canvas.image()[140, 140] == 1.0
    assert len(canvas.strokes()) == 1
    canvas.undo()
    assert not canvas.image().any() and canvas.is_empty()
    drag(canvas, line(40, 140, 240, 140))
    QTest.keyClick(canvas, Qt.Key_Escape)
    assert not canvas.image().any()
    drag(canvas, line(40, 140, 240, 140))
    QTest.keyClick(canvas, Qt.Key_Delete)
    assert not canvas.image().any()


def test_brush_width_changes_thickness(canvas):
    canvas.set_brush_width(8)
    drag(canvas, line(40, 100, 240, 100))
    canvas.set_brush_width(30)
    drag(canvas, line(40, 200, 240, 200))
    img = canvas.image()
    assert abs((img[:, 140][80:120] > 0.5).sum() - 8) <= 1
    assert abs((img[:, 140][170:230] > 0.5).sum() - 30) <= 1


def test_canvas_stays_square_when_resized(canvas, qtbot):
    canvas.resize(600, 400)
    r = canvas.target_rect()
    assert r.width() == r.height() == 400
    # drawing still lands in the right place on the backing image
    canvas.clear()
    drag(canvas, [(r.x() + r.width() / 2, r.y() + 40), (r.x() + r.width() / 2, r.y() + 360)])
    img = canvas.image()
    assert img[140, 140] == 1.0 and img[140, 60] == 0.0


def test_image_changed_fires_during_a_stroke(canvas, qtbot):
    seen = []
    canvas.imageChanged.connect(lambda: seen.append(canvas.image()[140].max()))
    QTest.mousePress(canvas, Qt.LeftButton, Qt.NoModifier, QPoint(40, 140))
    QTest.mouseMove(canvas, QPoint(120, 140))
    QTest.mouseMove(canvas, QPoint(200, 140))
    assert len(seen) >= 3 and seen[-1] == 1.0          # before the button is released
    QTest.mouseRelease(canvas, Qt.LeftButton, Qt.NoModifier, QPoint(200, 140))


def test_tablet_pen_draws(canvas):
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QInputDevice, QPointingDevice, QTabletEvent
    from PySide6.QtWidgets import QApplication
    pen = QPointingDevice("test pen", 1, QInputDevice.DeviceType.Stylus, QPointingDevice.PointerType.Pen,
                          QInputDevice.Capability.Position | QInputDevice.Capability.Pressure, 1, 3)

    def send(kind, y, buttons):
        p = QPointF(140, y)
        QApplication.sendEvent(canvas, QTabletEvent(kind, pen, p, canvas.mapToGlobal(p), 0.5, 0.0, 0.0, 0.0,
                                                    0.0, 0.0, Qt.NoModifier, Qt.LeftButton, buttons))
    send(QEvent.Type.TabletPress, 40, Qt.LeftButton)
    for y in range(50, 240, 10):
        send(QEvent.Type.TabletMove, y, Qt.LeftButton)
    send(QEvent.Type.TabletRelease, 240, Qt.NoButton)
    img = canvas.image()
    assert img[40:240, 140].min() == 1.0 and len(canvas.strokes()) == 1
